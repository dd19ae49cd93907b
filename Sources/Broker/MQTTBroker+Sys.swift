import NIOCore
import Synchronization
import WharfCore

extension MQTTBroker {
    /// Adds `$SYS` values published with the broker's own (topic, value) pairs.
    public func addSystemTopics(_ provider: @escaping @Sendable () -> [(String, String)]) {
        systemTopicProviders.withLock { $0.append(provider) }
    }

    /// The `$SYS/broker/...` values as Mosquitto names them, at this moment, then the values of
    /// added providers.
    func systemTopics() -> [(String, String)] {
        let providers = systemTopicProviders.withLock { $0 }
        return brokerSystemTopics() + flowControlSystemTopics() + providers.flatMap { $0() }
    }

    private func brokerSystemTopics() -> [(String, String)] {
        let s = statistics
        let connected = s.clientsConnected.load(ordering: .relaxed)
        let total = sessionCount
        let uptime = (clock.now() - startedAt) / 1_000_000_000
        return [
            ("$SYS/broker/version", "wharf \(version)"),
            ("$SYS/broker/uptime", "\(uptime) seconds"),
            ("$SYS/broker/clients/connected", "\(connected)"),
            ("$SYS/broker/clients/active", "\(connected)"),
            ("$SYS/broker/clients/disconnected", "\(max(0, total - connected))"),
            ("$SYS/broker/clients/inactive", "\(max(0, total - connected))"),
            ("$SYS/broker/clients/total", "\(total)"),
            ("$SYS/broker/clients/maximum", "\(s.clientsMaximum.load(ordering: .relaxed))"),
            ("$SYS/broker/clients/expired", "\(s.sessionsExpired.load(ordering: .relaxed))"),
            ("$SYS/broker/messages/received", "\(s.packetsReceived.load(ordering: .relaxed))"),
            ("$SYS/broker/messages/sent", "\(s.packetsSent.load(ordering: .relaxed))"),
            ("$SYS/broker/publish/messages/received", "\(s.publishReceived.load(ordering: .relaxed))"),
            ("$SYS/broker/publish/messages/sent", "\(s.publishSent.load(ordering: .relaxed))"),
            ("$SYS/broker/publish/messages/dropped", "\(s.droppedTotal)"),
            ("$SYS/broker/publish/bytes/received", "\(s.publishBytesReceived.load(ordering: .relaxed))"),
            ("$SYS/broker/publish/bytes/sent", "\(s.publishBytesSent.load(ordering: .relaxed))"),
            ("$SYS/broker/bytes/received", "\(s.bytesReceived.load(ordering: .relaxed))"),
            ("$SYS/broker/bytes/sent", "\(s.bytesSent.load(ordering: .relaxed))"),
            ("$SYS/broker/subscriptions/count", "\(router.subscriptionCount)"),
            ("$SYS/broker/retained messages/count", "\(router.retained.count)"),
        ]
    }

    /// Publishes the `$SYS` values that changed since `previous` as retained messages, as
    /// Mosquitto does; returns the values now published.
    @discardableResult
    func publishSystemTopics(previous: [String: String]) -> [String: String] {
        var current: [String: String] = [:]
        let now = clock.now()
        for (topic, value) in systemTopics() {
            current[topic] = value
            guard previous[topic] != value else { continue }
            let message = Message(
                topic: topic,
                payload: ByteBuffer(string: value),
                qos: .atMostOnce,
                retain: true,
                principal: .broker,
                receivedAt: now
            )
            router.publish(message)
        }
        return current
    }
}
