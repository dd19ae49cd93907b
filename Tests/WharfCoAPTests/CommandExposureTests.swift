import Testing
import WharfCore

@testable import WharfCoAP

@Test func overlapsWithModbusAndCoAPCommandTopics() {
    let commands = ["devices/plc/pump/set", "valves/+/open"]
    let found = CommandExposure.overlaps(publish: ["devices/#", "valves/3/#", "sensors/+"], commandTopics: commands)
    #expect(
        found == [
            .init(filter: "devices/#", example: "devices/plc/pump/set", command: "devices/plc/pump/set"),
            .init(filter: "devices/#", example: "devices/x/x/set", command: nil),
            .init(filter: "valves/3/#", example: "valves/3/open", command: "valves/+/open"),
            .init(filter: "valves/3/#", example: "valves/3/x/set", command: nil),
        ])
}

@Test func telemetryDefaultReachesNoCommandTopicOfTheConvention() {
    let commands = ["devices/plc/pump/set", "devices/+/+/set", "devices/+/+/set/result"]
    #expect(CommandExposure.overlaps(publish: CoAPSettings.telemetryFilters, commandTopics: commands).isEmpty)
    // A command topic outside the convention that has the shape of telemetry is reached, and reported.
    let found = CommandExposure.overlaps(publish: CoAPSettings.telemetryFilters, commandTopics: ["devices/valve-3/set"])
    #expect(found == [.init(filter: "devices/+/+", example: "devices/valve-3/set", command: "devices/valve-3/set")])
}

@Test func setConvention() {
    #expect(CommandExposure.setTopic("#") == "x/x/x/set")
    #expect(CommandExposure.setTopic("a/b/c/+") == "a/b/c/set")
    #expect(CommandExposure.setTopic("a/+/b") == nil)
    #expect(CommandExposure.setTopic("a/+") == nil)
    #expect(CommandExposure.setTopic("a/b/c/set") == "a/b/c/set")
    #expect(CommandExposure.setTopic("a/b/set") == nil)
    #expect(CommandExposure.setTopic("a/b/c/settings") == nil)
    #expect(CommandExposure.setTopic("+/#") == "x/x/x/set")
    #expect(CommandExposure.setTopic("a/b/c/d/e/#") == "a/b/c/d/e/set")
}

@Test func onlyPlainPeersBeyondLoopbackCount() {
    var settings = CoAPSettings()
    settings.plain.publish = ["#"]
    let commands = ["devices/plc/pump/set"]
    #expect(CommandExposure.overlaps(of: settings, commandTopics: commands).isEmpty)  // 127.0.0.1
    settings.bind = "::1"
    #expect(CommandExposure.overlaps(of: settings, commandTopics: commands).isEmpty)
    settings.bind = "192.168.1.10"
    #expect(CommandExposure.overlaps(of: settings, commandTopics: commands).count == 2)
    settings.bind = "0.0.0.0"
    #expect(CommandExposure.overlaps(of: settings, commandTopics: commands).count == 2)
    settings.allowPlain = false
    #expect(CommandExposure.overlaps(of: settings, commandTopics: commands).isEmpty)
}

/// Every valid filter of up to three levels over `a`, `set`, `+`, `#`.
private let smallFilters: [String] = {
    var filters: [[String]] = [[]]
    var all: [String] = []
    for _ in 1...3 {
        filters = filters.flatMap { prefix in ["a", "set", "+", "#"].map { prefix + [$0] } }
        all += filters.filter { !$0.dropLast().contains("#") }.map { $0.joined(separator: "/") }
    }
    return all
}()

/// Every topic of up to four levels over `a`, `set`, `x`, `$s`.
private let smallTopics: [String] = {
    var topics: [[String]] = [[]]
    var all: [String] = []
    for _ in 1...4 {
        topics = topics.flatMap { prefix in ["a", "set", "x", "$s"].map { prefix + [$0] } }
        all += topics.map { $0.joined(separator: "/") }
    }
    return all
}()

@Test func commonTopicExistsExactlyWhenSomeTopicMatchesBoth() {
    // Exhaustive over small filters: the example is found if and only if a topic matching both
    // exists, and it always matches both.
    for first in smallFilters {
        let matchesFirst = smallTopics.filter { TopicFilter.filter(first, matches: $0) }
        for second in smallFilters {
            let exists = matchesFirst.contains { TopicFilter.filter(second, matches: $0) }
            let example = CommandExposure.commonTopic(first, second)
            #expect((example != nil) == exists, "\(first) and \(second)")
            #expect((example != nil) == TopicFilter.filter(first, intersects: second), "\(first) and \(second)")
            if let example {
                #expect(TopicFilter.filter(first, matches: example) && TopicFilter.filter(second, matches: example))
            }
        }
    }
}

@Test func setTopicExistsExactlyWhenTheFilterMatchesOne() {
    // Filters of up to four levels, topics of up to five.
    let filters =
        smallFilters
        + smallFilters.filter { $0.split(separator: "/").count == 3 && !$0.hasSuffix("#") }
        .flatMap { prefix in ["a", "set", "+", "#"].map { "\(prefix)/\($0)" } }
    let topics =
        smallTopics
        + smallTopics.filter { $0.split(separator: "/").count == 4 }.flatMap { prefix in
            ["a", "set", "x", "$s"].map { "\(prefix)/\($0)" }
        }
    func isCommand(_ topic: String) -> Bool {
        let levels = topic.split(separator: "/", omittingEmptySubsequences: false)
        return levels.count >= 4 && levels.last == "set"
    }
    for filter in filters {
        let exists = topics.contains { isCommand($0) && TopicFilter.filter(filter, matches: $0) }
        let example = CommandExposure.setTopic(filter)
        #expect((example != nil) == exists, "\(filter)")
        if let example { #expect(isCommand(example) && TopicFilter.filter(filter, matches: example)) }
    }
}
