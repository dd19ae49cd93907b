import WharfConfig
import WharfCore

/// Which command topics plain (non-DTLS) peers could publish to: what `wharfd --check` warns
/// about when the server listens beyond the loopback interface. Pure.
///
/// Command topics are those of Wharf's `/set` convention (`devices/{device}/{point}/set`, the
/// default of Modbus points: any topic of four or more levels whose last level is `set`) and
/// the command topics or filters the Modbus and CoAP adapters subscribe to. Each overlap is shown
/// by an example topic that both the plain filter and the command topic (or filter) match, as
/// the broker's router decides (`TopicFilter.filter(_:matches:)`, byte by byte); the example is
/// built level by level from the two filters, and kept only when both match it.
public enum CommandExposure {
    /// One plain `publish` filter that reaches a command topic.
    public struct Overlap: Sendable, Equatable {
        /// The plain `publish` filter.
        public var filter: String
        /// A topic it lets plain peers publish to that is a command topic.
        public var example: String
        /// The command topic or filter it reaches, or `nil` for the `/set` convention.
        public var command: String?
    }

    /// The overlaps between what plain peers may publish and command topics; empty when plain
    /// peers are not allowed, or the server listens on a loopback address only.
    public static func overlaps(of settings: CoAPSettings, commandTopics: [String]) -> [Overlap] {
        guard settings.allowPlain, !AdminConfig.isLoopback(settings.bind) else { return [] }
        return overlaps(publish: settings.plain.publish, commandTopics: commandTopics)
    }

    /// The overlaps between `publish` filters and command topics: for each filter in order, each
    /// command topic it reaches, then the `/set` convention if it reaches that.
    public static func overlaps(publish: [String], commandTopics: [String]) -> [Overlap] {
        publish.flatMap { filter in
            var found = commandTopics.compactMap { command in
                commonTopic(filter, command).map { Overlap(filter: filter, example: $0, command: command) }
            }
            if let example = setTopic(filter) { found.append(Overlap(filter: filter, example: example, command: nil)) }
            return found
        }
    }

    /// A topic that both filters match, `nil` when there is none.
    static func commonTopic(_ first: String, _ second: String) -> String? {
        let a = first.split(separator: "/", omittingEmptySubsequences: false)
        let b = second.split(separator: "/", omittingEmptySubsequences: false)
        var levels: [Substring] = []
        var index = 0
        while true {
            let left = index < a.count ? a[index] : nil
            let right = index < b.count ? b[index] : nil
            switch (left, right) {
            case (nil, nil):
                return verified(levels, first, second)
            case ("#"?, _):
                levels += rest(of: b, from: index)
                return verified(levels, first, second)
            case (_, "#"?):
                levels += rest(of: a, from: index)
                return verified(levels, first, second)
            case (nil, _), (_, nil):
                return nil
            case ("+"?, let level?):
                levels.append(level == "+" ? "x" : level)
            case (let level?, _):
                levels.append(level)
            }
            index += 1
        }
    }

    /// A topic of the `/set` convention that `filter` matches, `nil` when there is none.
    static func setTopic(_ filter: String) -> String? {
        let levels = filter.split(separator: "/", omittingEmptySubsequences: false)
        var topic: [Substring] = []
        for (index, level) in levels.enumerated() {
            let last = index == levels.count - 1
            switch level {
            case "#":
                // As many levels as the convention needs below what the filter fixes.
                while topic.count < setLevels - 1 { topic.append("x") }
                topic.append("set")
            case "+": topic.append(last ? "set" : "x")
            default: topic.append(level)
            }
        }
        let candidate = topic.joined(separator: "/")
        guard topic.count >= setLevels, topic.last == "set", TopicFilter.filter(filter, matches: candidate) else {
            return nil
        }
        return candidate
    }

    /// The fewest levels of a `/set` command topic: `devices/{device}/{point}/set`.
    static let setLevels = 4

    /// The levels of `filter` from `index` on, up to a `#`, with `+` as `x`; `x` when none are left
    /// and none came before (`#` also matches its parent level, but a topic is never empty).
    private static func rest(of filter: [Substring], from index: Int) -> [Substring] {
        let levels = filter[min(index, filter.count)...].prefix { $0 != "#" }.map { $0 == "+" ? "x" : $0 }
        return levels.isEmpty && index == 0 ? ["x"] : Array(levels)
    }

    private static func verified(_ levels: [Substring], _ first: String, _ second: String) -> String? {
        let topic = levels.joined(separator: "/")
        guard !topic.isEmpty, TopicFilter.filter(first, matches: topic),
            TopicFilter.filter(second, matches: topic)
        else { return nil }
        return topic
    }
}
