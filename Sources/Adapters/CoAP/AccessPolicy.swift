/// Which identity may publish to or read which topics (`dtls.psk[].publish` / `read`).
public struct AccessPolicy: Sendable {
    /// What a request wants to do with a topic.
    public enum Action: Sendable, Hashable {
        /// POST or PUT.
        case publish
        /// GET or observe.
        case read
    }

    private let allowPlain: Bool
    private let grants: [String: (publish: [String], read: [String])]

    /// The policy of validated settings.
    public init(settings: CoAPSettings) {
        allowPlain = settings.allowPlain
        var grants: [String: (publish: [String], read: [String])] = [:]
        for entry in settings.dtls.psk { grants[entry.identity] = (entry.publish, entry.read) }
        self.grants = grants
    }

    /// Whether the peer may use the server at all: plain requests need `allow_plain`.
    public func admits(_ identity: PeerIdentity) -> Result<Void, Rejection> {
        if identity == .plain && !allowPlain { return .failure(Rejection(.unauthorized, "DTLS required")) }
        return .success(())
    }

    /// Whether `identity` may do `action` on `topic`.
    ///
    /// Plain requests (when admitted) and certificate-authenticated peers may use every topic; a PSK
    /// identity only the topics its filters match.
    public func check(_ action: Action, topic: String, identity: PeerIdentity) -> Result<Void, Rejection> {
        switch identity {
        case .plain:
            return admits(identity)
        case .certificate:
            return .success(())
        case .psk(let name):
            guard let grant = grants[name] else { return .failure(Rejection(.forbidden, "unknown identity")) }
            let filters = action == .publish ? grant.publish : grant.read
            if filters.contains(where: { Self.filter($0, matches: topic) }) { return .success(()) }
            return .failure(Rejection(.forbidden, "not allowed to \(action == .publish ? "publish" : "read") \(topic)"))
        }
    }

    /// MQTT filter matching: `+` one level, `#` the rest; wildcards first do not match `$` topics.
    public static func filter(_ filter: String, matches topic: String) -> Bool {
        if topic.hasPrefix("$") && (filter.hasPrefix("+") || filter.hasPrefix("#")) { return false }
        let filterLevels = filter.split(separator: "/", omittingEmptySubsequences: false)
        let topicLevels = topic.split(separator: "/", omittingEmptySubsequences: false)
        for (index, level) in filterLevels.enumerated() {
            if level == "#" { return true }
            guard index < topicLevels.count else { return false }
            if level != "+" && level != topicLevels[index] { return false }
        }
        return filterLevels.count == topicLevels.count
    }
}
