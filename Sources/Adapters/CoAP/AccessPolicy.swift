/// Who may publish to or read which topics: one ``TopicGrant`` per peer identity (`plain`,
/// `dtls.psk[]`, `dtls.certificates[]`), and the small decision that applies it.
public struct AccessPolicy: Sendable {
    /// What a request wants to do with a topic.
    public enum Action: Sendable, Hashable {
        /// POST or PUT.
        case publish
        /// GET or observe.
        case read
    }

    private let allowPlain: Bool
    private let plain: TopicGrant
    private let psk: [String: TopicGrant]
    private let certificates: [String: TopicGrant]

    /// The policy of validated settings.
    public init(settings: CoAPSettings) {
        allowPlain = settings.allowPlain
        plain = settings.plain
        var psk: [String: TopicGrant] = [:]
        for entry in settings.dtls.psk { psk[entry.identity] = entry.grant }
        self.psk = psk
        var certificates: [String: TopicGrant] = [:]
        for entry in settings.dtls.certificates { certificates[entry.subject] = entry.grant }
        self.certificates = certificates
    }

    /// What `identity` may do; `nil` when it may do nothing (an unlisted identity or subject, a
    /// DTLS peer without one, a plain peer while `allow_plain` is false).
    public func grant(for identity: PeerIdentity) -> TopicGrant? {
        switch identity {
        case .plain: allowPlain ? plain : nil
        case .psk(let name): psk[name]
        case .certificate(let subject): certificates[subject]
        case .unverified: nil
        }
    }

    /// Whether the peer may use the server at all: plain requests need `allow_plain`, DTLS ones an
    /// identity.
    public func admits(_ identity: PeerIdentity) -> Result<Void, Rejection> {
        switch identity {
        case .plain where !allowPlain: .failure(Rejection(.unauthorized, "DTLS required"))
        case .unverified: .failure(Rejection(.unauthorized, "no verified identity"))
        default: .success(())
        }
    }

    /// Whether `identity` may do `action` on `topic`: one of its grant's filters must match.
    public func check(_ action: Action, topic: String, identity: PeerIdentity) -> Result<Void, Rejection> {
        if case .failure(let rejection) = admits(identity) { return .failure(rejection) }
        guard let grant = grant(for: identity) else { return .failure(Rejection(.forbidden, "unknown identity")) }
        if grant.filters(for: action).contains(where: { Self.filter($0, matches: topic) }) { return .success(()) }
        return .failure(Rejection(.forbidden, "not allowed to \(action == .publish ? "publish" : "read") \(topic)"))
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
