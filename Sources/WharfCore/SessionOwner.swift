/// Who an MQTT session belongs to: only a client of the same user may resume it.
public enum SessionOwner: Sendable, Hashable {
    /// A session kept by an older Wharf that did not record its owner: the first client to
    /// resume it becomes its owner.
    case unknown
    /// The user name the session was created under; `nil` for an anonymous client.
    case user(String?)

    /// Whether a client of `username` may resume the session.
    public func admits(_ username: String?) -> Bool {
        switch self {
        case .unknown: true
        case .user(let owner): owner == username
        }
    }
}
