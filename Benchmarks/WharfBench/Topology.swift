/// The clients of a scenario: topics, filters and which subscribers hear which publisher.
struct Topology: Sendable {
    /// One topic per publisher.
    var publisherTopics: [String]
    /// One topic filter per subscriber.
    var subscriberFilters: [String]
    /// For each publisher, the subscribers that receive it, in slot order.
    var recipients: [[Int]]

    /// Lays out `configuration.scenario` under a topic prefix unique to this run.
    ///
    /// Topics stay within 15 bytes where the counts allow, so that decoding them never allocates.
    init(configuration: BenchConfiguration, runID: String) {
        let prefix = "b/\(runID)"
        switch configuration.scenario {
        case .fanIn:
            let count = configuration.publishers
            if configuration.wildcard {
                publisherTopics = (0..<count).map { "\(prefix)/i/\($0)" }
                subscriberFilters = ["\(prefix)/i/+"]
            } else {
                publisherTopics = Array(repeating: "\(prefix)/i", count: count)
                subscriberFilters = ["\(prefix)/i"]
            }
            recipients = Array(repeating: [0], count: count)
        case .fanOut:
            publisherTopics = ["\(prefix)/o"]
            subscriberFilters = Array(repeating: "\(prefix)/o", count: configuration.subscribers)
            recipients = [Array(0..<configuration.subscribers)]
        case .pairs:
            let count = configuration.publishers
            publisherTopics = (0..<count).map { "\(prefix)/p/\($0)" }
            subscriberFilters = publisherTopics
            recipients = (0..<count).map { [$0] }
        }
    }

    /// For each subscriber, its slot in each publisher's recipient list (-1 where it hears none).
    var slots: [[Int]] {
        var slots = Array(repeating: Array(repeating: -1, count: publisherTopics.count), count: subscriberFilters.count)
        for (publisher, list) in recipients.enumerated() {
            for (slot, subscriber) in list.enumerated() { slots[subscriber][publisher] = slot }
        }
        return slots
    }
}
