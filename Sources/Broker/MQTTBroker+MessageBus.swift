public import AdapterKit
public import WharfCore

extension MQTTBroker: MessageBus {
    /// Routes a message published in-process (by an adapter or the uplink).
    public func publish(_ message: Message) async throws(PublishError) -> PublishReceipt {
        try publishNow(message)
    }

    /// The synchronous form of ``publish(_:)`` for callers already on a thread of their own.
    public func publishNow(_ message: Message) throws(PublishError) -> PublishReceipt {
        if let problem = Topic.validateName(message.topic) {
            throw PublishError(reason: "topic-invalid", message: "cannot publish to '\(message.topic)': \(problem)")
        }
        var routed = message
        routed.receivedAt = clock.now()
        let matched = router.publish(routed)
        return PublishReceipt(matchedSubscribers: matched)
    }

    /// Subscribes an in-process handler to `filter`.
    public func subscribe(
        filter: String,
        qos: QoS,
        handler: @escaping @Sendable (Message) -> Void
    ) throws(SubscribeError) -> BusSubscription {
        if let problem = Topic.validateFilter(filter) {
            throw SubscribeError(message: "cannot subscribe to '\(filter)': \(problem)")
        }
        let identifier = router.subscribeLocal(filter: filter, qos: qos, handler: handler)
        return BusSubscription { [router] in
            router.unsubscribeLocal(filter: filter, identifier: identifier)
        }
    }
}
