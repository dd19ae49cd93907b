public import AdapterKit
import Synchronization
import WharfAuth
import WharfConfig
public import WharfCore

extension MQTTBroker: MessageBus {
    /// Routes a message published in-process (by an adapter or the uplink).
    /// QoS 1/2 messages taken by an uplink forward rule return once they are on disk.
    public func publish(_ message: Message) async throws(PublishError) -> PublishReceipt {
        try await publishAwaitingCompletion(message)
    }

    /// Routes a message on the calling thread; see ``MessageBus/publish(_:completion:)``.
    public func publish(
        _ message: Message,
        completion: @escaping @Sendable (Result<PublishReceipt, PublishError>) -> Void
    ) -> PublishProgress {
        let routed: Message
        do throws(PublishError) {
            routed = try stamped(message)
        } catch {
            return .finished(.failure(error))
        }
        guard routed.qos != .atMostOnce else {
            let result = router.publish(routed, from: nil, whenDurable: nil)
            if let refusal = result.refusal { return .finished(.failure(Self.error(refusal, topic: routed.topic))) }
            return .finished(.success(PublishReceipt(matchedSubscribers: result.matched)))
        }
        // The outcome may arrive before `publish` returns the match count, on another thread;
        // whichever of the two comes second reports it, so it is reported exactly once.
        let join = Mutex<(matched: Int?, outcome: DurableOutcome?)>((nil, nil))
        let result = router.publish(routed, from: nil) { outcome in
            let matched = join.withLock { state in
                state.outcome = outcome
                return state.matched
            }
            if let matched { completion(Self.result(matched: matched, outcome: outcome)) }
        }
        if let refusal = result.refusal { return .finished(.failure(Self.error(refusal, topic: routed.topic))) }
        guard result.awaitsDurability else {
            return .finished(.success(PublishReceipt(matchedSubscribers: result.matched)))
        }
        let outcome = join.withLock { state in
            state.matched = result.matched
            return state.outcome
        }
        guard let outcome else { return .waiting }
        return .finished(Self.result(matched: result.matched, outcome: outcome))
    }

    /// The receipt or error of a message whose durable routes reported `outcome`.
    private static func result(matched: Int, outcome: DurableOutcome) -> Result<PublishReceipt, PublishError> {
        switch outcome {
        case .stored:
            return .success(PublishReceipt(matchedSubscribers: matched))
        case .rejectedQueueFull:
            return .failure(PublishError(reason: "quota-exceeded", message: "the store-and-forward queue is full"))
        case .failed(let reason):
            return .failure(PublishError(reason: "store-failed", message: reason))
        }
    }

    /// The error of a publish the router refused.
    private static func error(_ refusal: Authorizer.Refusal, topic: String) -> PublishError {
        PublishError(reason: "not-authorized", message: "cannot publish to '\(topic)': \(refusal)")
    }

    /// Adds an uplink forward rule: matching messages go to `route.sink`, and QoS 1/2
    /// publishers are acknowledged only once the sink has them on disk.
    public func addForwardRoute(_ route: DurableRoute) {
        flowControl.hasForwardRoutes.store(true, ordering: .relaxed)
        router.addDurableRoute(route)
    }

    /// The synchronous form of ``publish(_:)`` for callers already on a thread of their own.
    public func publishNow(_ message: Message) throws(PublishError) -> PublishReceipt {
        let routed = try stamped(message)
        let result = router.publish(routed, from: nil, whenDurable: nil)
        if let refusal = result.refusal { throw Self.error(refusal, topic: routed.topic) }
        return PublishReceipt(matchedSubscribers: result.matched)
    }

    /// The message with its topic checked and the router's receive time set.
    private func stamped(_ message: Message) throws(PublishError) -> Message {
        if let problem = Topic.validateName(message.topic) {
            throw PublishError(reason: "topic-invalid", message: "cannot publish to '\(message.topic)': \(problem)")
        }
        // The same bound as for MQTT clients: a CoAP path, a plugin or the cloud cannot make
        // the broker hold topics deeper than max_topic_levels.
        let limit = config.maxTopicLevels
        if message.topic.utf8.count >= limit, TopicFilter.levelCount(message.topic) > limit {
            statistics.recordLimitHit(.topicLevels)
            throw PublishError(
                reason: "topic-invalid", message: "cannot publish to a topic of more than \(limit) levels")
        }
        var routed = message
        routed.receivedAt = clock.now()
        return routed
    }

    /// The unexpired retained messages under `filter` that `principal` may read; throws for an
    /// invalid filter, or one `principal` may not subscribe to.
    public func retainedMessages(matching filter: String, principal: Principal) throws(SubscribeError) -> [Message] {
        if let problem = Topic.validateFilter(filter) {
            throw SubscribeError(message: "cannot read '\(filter)': \(problem)")
        }
        if let refusal = router.checkSubscribe(filter, by: principal) {
            throw SubscribeError(message: "\(principal) cannot read '\(filter)': \(refusal)")
        }
        return router.retainedMessages(matching: filter, for: principal, now: clock.now()).sorted {
            $0.topic < $1.topic
        }
    }

    /// Subscribes an in-process handler to `filter` on behalf of `principal`.
    public func subscribe(
        filter: String,
        qos: QoS,
        principal: Principal,
        handler: @escaping @Sendable (Message) -> Void
    ) throws(SubscribeError) -> BusSubscription {
        if let problem = Topic.validateFilter(filter) {
            throw SubscribeError(message: "cannot subscribe to '\(filter)': \(problem)")
        }
        switch router.subscribeLocal(filter: filter, qos: qos, principal: principal, handler: handler) {
        case .failure(let refusal):
            throw SubscribeError(message: "\(principal) cannot subscribe to '\(filter)': \(refusal)")
        case .success(let identifier):
            return BusSubscription { [router] in
                router.unsubscribeLocal(filter: filter, identifier: identifier)
            }
        }
    }
}
