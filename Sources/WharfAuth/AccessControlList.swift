public import WharfCore

/// What an ACL line grants on the topics its filter matches.
public enum ACLAccess: String, Sendable, Equatable, CaseIterable {
    /// Receive messages (subscribe and be delivered to).
    case read
    /// Publish (and have a will published).
    case write
    /// Both.
    case readwrite
    /// Nothing: the line takes precedence over grants in the same part of the file.
    case deny

    func grants(_ operation: ACLOperation) -> Bool {
        switch (self, operation) {
        case (.readwrite, _), (.read, .read), (.write, .write): true
        default: false
        }
    }
}

/// An operation checked against the ACL.
public enum ACLOperation: Sendable, Equatable {
    /// A message is delivered (or read: subscribing, fetching retained messages).
    case read
    /// A message is published.
    case write
}

/// One `topic` or `pattern` line.
public struct ACLRule: Sendable, Equatable {
    /// What the line grants.
    public var access: ACLAccess
    /// The topic filter, with `%u`/`%c` unexpanded for patterns.
    public var filter: String
    /// Where the line is, for messages.
    public var line: Int

    /// Creates a rule.
    public init(access: ACLAccess, filter: String, line: Int) {
        self.access = access
        self.filter = filter
        self.line = line
    }
}

/// A Mosquitto-format ACL file: `topic` lines before any `user` line apply to anonymous
/// clients, `topic` lines after `user NAME` to that user, `pattern` lines to every MQTT client.
/// A `user` line may also name a principal that is not an MQTT client, by a reserved prefix
/// (``Principal/reservedNamePrefixes``): `user adapter:plc-1`, `user coap-psk:sensor-7`,
/// `user wharf:uplink`.
///
/// A decision looks at the principal's own lines first, then (for MQTT clients) at the
/// patterns: in each part a matching `deny` refuses at once, a matching grant allows; no match
/// anywhere refuses.
public struct AccessControlList: Sendable, Equatable {
    /// Lines for clients without a user name.
    public var anonymousRules: [ACLRule] = []
    /// Lines per MQTT user name.
    public var userRules: [String: [ACLRule]] = [:]
    /// Lines per principal that is not an MQTT client, by its ``Principal/aclName``.
    public var principalRules: [String: [ACLRule]] = [:]
    /// `pattern` lines, for every MQTT client.
    public var patternRules: [ACLRule] = []

    /// Creates an empty list (which refuses everything).
    public init() {}

    /// Whether `principal` may `operation` on `topic` (a topic name).
    public func allows(_ operation: ACLOperation, topic: String, for principal: Principal) -> Bool {
        for part in parts(for: principal) {
            var granted = false
            for (access, filter) in part where TopicFilter.filter(filter, matches: topic) {
                if access == .deny { return false }
                if access.grants(operation) { granted = true }
            }
            if granted { return true }
        }
        return false
    }

    /// Whether `principal` may subscribe to `filter`: some readable topic matches it and no `deny`
    /// line covers all of it. Messages are still checked one by one on delivery.
    public func allowsSubscription(to filter: String, for principal: Principal) -> Bool {
        for part in parts(for: principal) {
            var granted = false
            for (access, ruleFilter) in part {
                if access == .deny {
                    if TopicFilter.filter(ruleFilter, covers: filter) { return false }
                } else if access.grants(.read), TopicFilter.filter(ruleFilter, intersects: filter) {
                    granted = true
                }
            }
            if granted { return true }
        }
        return false
    }

    /// The principal's own lines, then the patterns expanded for an MQTT client.
    private func parts(for principal: Principal) -> [[(ACLAccess, String)]] {
        guard case .client(let username, let clientIdentifier, _) = principal.kind else {
            let own = principal.aclName.flatMap { principalRules[$0] } ?? []
            return [own.map { ($0.access, $0.filter) }]
        }
        let own = (username.map { userRules[$0] ?? [] } ?? anonymousRules).map { ($0.access, $0.filter) }
        return [own, patterns(username: username, clientIdentifier: clientIdentifier)]
    }

    /// Patterns with `%u` and `%c` replaced. A user name or client id holding `+`, `#` or `/`
    /// could reach other clients' topics through a pattern, so such clients get no patterns;
    /// anonymous clients get no pattern that names `%u`.
    private func patterns(username: String?, clientIdentifier: String) -> [(ACLAccess, String)] {
        guard !patternRules.isEmpty else { return [] }
        let unsafe: (String) -> Bool = { $0.contains(where: { $0 == "+" || $0 == "#" || $0 == "/" }) }
        if unsafe(clientIdentifier) || username.map(unsafe) == true { return [] }
        return patternRules.compactMap { rule in
            var filter = rule.filter
            if filter.contains("%u") {
                guard let username else { return nil }
                filter = filter.replacing("%u", with: username)
            }
            filter = filter.replacing("%c", with: clientIdentifier)
            return (rule.access, filter)
        }
    }
}
