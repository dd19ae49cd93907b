public import WharfCore

/// Rewrites topics between the local broker and the cloud: strips one prefix, then adds another.
///
/// One value serves both directions. An uplink rule `devices/#` with `adding: "site1/"` maps the local
/// topic `devices/x` to the remote topic `site1/devices/x`; a remote subscription `cmd/gw1/#` with
/// `removing: "cmd/gw1/"` and `adding: "commands/"` maps `cmd/gw1/x` to the local topic `commands/x`.
/// `inverse` maps back. Prefixes are compared byte by byte (MQTT never normalizes Unicode), and a
/// mapping whose result is not a valid topic name is refused instead of producing it.
public struct TopicRemap: Sendable, Hashable {
    /// The prefix a topic must start with; it is removed. Empty: nothing is removed.
    public var removing: String
    /// The prefix put in front of what remains. Empty: nothing is added.
    public var adding: String

    /// Creates a remap; the default values leave topics unchanged.
    public init(removing: String = "", adding: String = "") {
        self.removing = removing
        self.adding = adding
    }

    /// The remap that leaves every topic as it is.
    public static let identity = TopicRemap()

    /// Whether the remap leaves every topic as it is.
    public var isIdentity: Bool { removing.isEmpty && adding.isEmpty }

    /// The remap of the opposite direction: removes `adding` and adds `removing`.
    public var inverse: TopicRemap { TopicRemap(removing: adding, adding: removing) }

    /// Maps a topic name; throws when it lacks the prefix or the result is not a valid topic name.
    public func map(_ topic: String) throws(TopicRemapError) -> String {
        let mapped = try rewrite(topic)
        if let problem = Topic.validateName(mapped) {
            throw TopicRemapError(input: topic, output: mapped, problem: .invalidResult(problem))
        }
        return mapped
    }

    /// Maps a topic name back the other way (`inverse.map`).
    public func unmap(_ topic: String) throws(TopicRemapError) -> String {
        try inverse.map(topic)
    }

    /// Maps a topic filter, wildcards kept; throws when it lacks the prefix or the result is not a valid filter.
    ///
    /// Used to check configuration: a subscription `cmd/+/x` cannot be stripped of `cmd/gw1/`, because
    /// the prefix would have to cover a wildcard level.
    public func mapFilter(_ filter: String) throws(TopicRemapError) -> String {
        let mapped = try rewrite(filter)
        if let problem = Topic.validateFilter(mapped) {
            throw TopicRemapError(input: filter, output: mapped, problem: .invalidResult(problem))
        }
        return mapped
    }

    private func rewrite(_ topic: String) throws(TopicRemapError) -> String {
        if isIdentity { return topic }
        // A wildcard in the prefix would match only a filter's literal `+` or `#`, never a topic.
        if removing.utf8.contains(where: { $0 == Topic.singleLevelWildcard || $0 == Topic.multiLevelWildcard }) {
            throw TopicRemapError(input: topic, output: nil, problem: .wildcardInPrefix(removing))
        }
        let utf8 = topic.utf8
        guard utf8.starts(with: removing.utf8) else {
            throw TopicRemapError(input: topic, output: nil, problem: .missingPrefix(removing))
        }
        // Cutting at a byte offset that ends a whole prefix string keeps scalar boundaries intact.
        let rest = utf8.dropFirst(removing.utf8.count)
        return adding + String(decoding: rest, as: UTF8.self)
    }
}

/// Why a topic could not be remapped.
public struct TopicRemapError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public enum Problem: Sendable, Hashable {
        /// The topic does not start with the prefix that has to be removed.
        case missingPrefix(String)
        /// The prefix to remove contains `+` or `#`, which no topic name can start with.
        case wildcardInPrefix(String)
        /// The result is not a valid MQTT topic name (or filter, for `mapFilter`).
        case invalidResult(TopicValidationError)
    }

    /// The topic (or filter) that was to be mapped.
    public var input: String
    /// What the mapping produced, when it got that far.
    public var output: String?
    /// What went wrong.
    public var problem: Problem

    /// Creates an error.
    public init(input: String, output: String?, problem: Problem) {
        self.input = input
        self.output = output
        self.problem = problem
    }

    /// A sentence naming the topic and the problem.
    public var description: String {
        switch problem {
        case .missingPrefix(let prefix):
            return "topic \"\(input)\" does not start with \"\(prefix)\""
        case .wildcardInPrefix(let prefix):
            return "the prefix \"\(prefix)\" to remove from \"\(input)\" contains a wildcard"
        case .invalidResult(let reason):
            return "topic \"\(input)\" maps to \"\(output ?? "")\", which is not valid (\(reason))"
        }
    }
}
