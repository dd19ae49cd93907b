import WharfCore

/// The loopback broker's subscriptions and the connections with output to flush.
///
/// Lives on the broker's single event loop, like every connection it routes to.
final class LoopbackRouter {
    private var subscriptions: [(filter: String, connection: LoopbackConnection)] = []
    /// Matching subscribers per topic, computed on first use and dropped when subscriptions change.
    private var routes: [String: [LoopbackConnection]] = [:]
    private var dirty: [LoopbackConnection] = []

    /// Adds a subscription.
    func subscribe(_ connection: LoopbackConnection, filter: String) {
        subscriptions.append((filter, connection))
        routes.removeAll()
    }

    /// Drops every subscription of `connection`.
    func remove(_ connection: LoopbackConnection) {
        subscriptions.removeAll { $0.connection === connection }
        routes.removeAll()
        dirty.removeAll { $0 === connection }
    }

    /// The subscribers of `topic`.
    @inline(__always)
    func subscribers(of topic: String) -> [LoopbackConnection] {
        if let route = routes[topic] { return route }
        let route = subscriptions.filter { Self.matches(filter: $0.filter, topic: topic) }.map(\.connection)
        routes[topic] = route
        return route
    }

    /// Notes that `connection` has output to flush at the end of the current read.
    @inline(__always)
    func markDirty(_ connection: LoopbackConnection) {
        dirty.append(connection)
    }

    /// Flushes every connection with pending output.
    func flush() {
        guard !dirty.isEmpty else { return }
        let connections = dirty
        dirty.removeAll(keepingCapacity: true)
        for connection in connections { connection.flush() }
    }

    /// MQTT topic filter matching for plain topics (no `$` topics involved here).
    static func matches(filter: String, topic: String) -> Bool {
        let filterLevels = filter.utf8.split(separator: Topic.separator, omittingEmptySubsequences: false)
        let topicLevels = topic.utf8.split(separator: Topic.separator, omittingEmptySubsequences: false)
        for (position, level) in filterLevels.enumerated() {
            if level.elementsEqual([Topic.multiLevelWildcard]) { return true }
            guard position < topicLevels.count else { return false }
            if level.elementsEqual([Topic.singleLevelWildcard]) { continue }
            guard level.elementsEqual(topicLevels[position]) else { return false }
        }
        return filterLevels.count == topicLevels.count
    }
}
