/// Who a connected client is, for ACL checks and `%u`/`%c` patterns.
public struct ClientIdentity: Sendable, Hashable {
    /// The authenticated user name; `nil` for an anonymous client.
    public var username: String?
    /// The MQTT client identifier (assigned by the broker when the client sent none).
    public var clientIdentifier: String

    /// Creates an identity.
    public init(username: String?, clientIdentifier: String) {
        self.username = username
        self.clientIdentifier = clientIdentifier
    }
}

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
    /// A message is delivered to the client.
    case read
    /// The client publishes a message.
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
/// clients, `topic` lines after `user NAME` to that user, `pattern` lines to every client.
///
/// A decision looks at the client's own lines first, then at the patterns: in each part a
/// matching `deny` refuses at once, a matching grant allows; no match anywhere refuses.
public struct AccessControlList: Sendable, Equatable {
    /// Lines for clients without a user name.
    public var anonymousRules: [ACLRule] = []
    /// Lines per user name.
    public var userRules: [String: [ACLRule]] = [:]
    /// `pattern` lines, for every client.
    public var patternRules: [ACLRule] = []

    /// Creates an empty list (which refuses everything).
    public init() {}

    /// Whether `client` may `operation` on `topic` (a topic name).
    public func allows(_ operation: ACLOperation, topic: String, for client: ClientIdentity) -> Bool {
        for part in parts(for: client) {
            var granted = false
            for (access, filter) in part where TopicFilters.filter(filter, matches: topic) {
                if access == .deny { return false }
                if access.grants(operation) { granted = true }
            }
            if granted { return true }
        }
        return false
    }

    /// Whether `client` may subscribe to `filter`: some readable topic matches it and no `deny`
    /// line covers all of it. Messages are still checked one by one on delivery.
    public func allowsSubscription(to filter: String, for client: ClientIdentity) -> Bool {
        for part in parts(for: client) {
            var granted = false
            for (access, ruleFilter) in part {
                if access == .deny {
                    if TopicFilters.filter(ruleFilter, covers: filter) { return false }
                } else if access.grants(.read), TopicFilters.filter(ruleFilter, intersects: filter) {
                    granted = true
                }
            }
            if granted { return true }
        }
        return false
    }

    /// The client's own lines, then the patterns expanded for it.
    private func parts(for client: ClientIdentity) -> [[(ACLAccess, String)]] {
        let own = (client.username.map { userRules[$0] ?? [] } ?? anonymousRules).map { ($0.access, $0.filter) }
        return [own, patterns(for: client)]
    }

    /// Patterns with `%u` and `%c` replaced. A user name or client id holding `+`, `#` or `/`
    /// could reach other clients' topics through a pattern, so such clients get no patterns;
    /// anonymous clients get no pattern that names `%u`.
    private func patterns(for client: ClientIdentity) -> [(ACLAccess, String)] {
        guard !patternRules.isEmpty else { return [] }
        let unsafe: (String) -> Bool = { $0.contains(where: { $0 == "+" || $0 == "#" || $0 == "/" }) }
        if unsafe(client.clientIdentifier) || client.username.map(unsafe) == true { return [] }
        return patternRules.compactMap { rule in
            var filter = rule.filter
            if filter.contains("%u") {
                guard let username = client.username else { return nil }
                filter = filter.replacing("%u", with: username)
            }
            filter = filter.replacing("%c", with: client.clientIdentifier)
            return (rule.access, filter)
        }
    }
}
