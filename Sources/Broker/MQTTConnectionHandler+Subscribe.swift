import DequeModule
import Logging
import MQTTCodec
import NIOCore
import Synchronization
import WharfAuth
import WharfConfig
import WharfCore

extension MQTTConnectionHandler {
    /// SUBSCRIBE: validate each filter, store it, answer SUBACK, then send matching retained
    /// messages as the Retain Handling option says (MQTT §3.8, §3.9).
    func handleSubscribe(_ subscribe: SubscribePacket, session: Session, context: ChannelHandlerContext) {
        let placeholder = SubAckPacket(
            packetIdentifier: subscribe.packetIdentifier, reasonCodes: subscribe.subscriptions.map { _ in 0 })
        guard answerFits(.subAck(placeholder), context: context) else { return }
        let identifier = subscribe.properties.subscriptionIdentifiers.first
        var codes: [UInt8] = []
        let now = broker.clock.now()
        let principal = self.principal ?? session.principal

        for request in subscribe.subscriptions {
            var filter = request.topicFilter
            var group: String?
            switch SharedSubscription.parse(filter) {
            case .success(let shared)?:
                guard broker.config.sharedSubscriptions else {
                    codes.append(refusalCode(.sharedSubscriptionsNotSupported, for: request))
                    continue
                }
                if request.options.noLocal {
                    violation(.protocolError, "No Local set on shared subscription '\(filter)'", context: context)
                    return
                }
                group = shared.group
                filter = shared.filter
            case .failure?:
                codes.append(refusalCode(.topicFilterInvalid, for: request))
                continue
            case nil:
                if Topic.validateFilter(filter) != nil {
                    codes.append(refusalCode(.topicFilterInvalid, for: request))
                    continue
                }
            }
            if exceedsTopicLevels(filter) {
                codes.append(refusalCode(.topicFilterInvalid, for: request))
                continue
            }
            if let refusal = broker.router.checkSubscribe(filter, by: principal) {
                logger.debug(
                    "subscription refused: \(refusal)", metadata: ["mqtt.topic_filter": "\(request.topicFilter)"])
                codes.append(refusalCode(.notAuthorized, for: request))
                continue
            }
            let subscription = SessionSubscription(
                filter: filter,
                shareGroup: group,
                options: request.options,
                identifier: identifier
            )
            // Recorded in the session first, then in the router, then checked again: a session
            // ended meanwhile (taken over by a clean start elsewhere) has its router entry removed
            // by whichever of the two comes last, so no subscription outlives its session.
            let limit = broker.config.maxSubscriptionsPerClient
            let admission: SubscriptionAdmission = session.core.withLock { core in
                guard !core.ended else { return .sessionEnded }
                if limit > 0, core.subscriptions.count >= limit, core.subscriptions[subscription.fullFilter] == nil {
                    return .limitReached
                }
                core.subscriptions[subscription.fullFilter] = subscription
                if let store = session.store, core.isPersistent {
                    store.saveSubscription(
                        clientIdentifier: session.clientIdentifier,
                        StoredSubscription(
                            filter: subscription.fullFilter, options: request.options, identifier: identifier)
                    )
                    core.persisted = true
                }
                return .admitted
            }
            switch admission {
            case .admitted:
                break
            case .sessionEnded:
                return
            case .limitReached:
                broker.statistics.recordLimitHit(.subscriptions)
                logger.info(
                    "subscription refused: max_subscriptions_per_client (\(limit)) reached",
                    metadata: ["mqtt.topic_filter": "\(request.topicFilter)"])
                codes.append(refusalCode(.quotaExceeded, for: request))
                continue
            }
            let existed = broker.router.subscribe(session, subscription)
            if session.core.withLock({ $0.ended }) {
                broker.router.unsubscribeAll(session, subscriptions: [subscription])
                return
            }
            codes.append(request.options.qos.rawValue)

            let handling = request.options.retainHandling
            guard group == nil, handling == 0 || (handling == 1 && !existed) else { continue }
            for message in broker.router.retainedMessages(matching: filter, for: principal, now: now) {
                retainedBacklog.append(
                    OutboundMessage(
                        message: message,
                        qos: min(message.qos, request.options.qos),
                        retain: true,
                        subscriptionIdentifiers: identifier.map { [$0] } ?? [],
                        enqueuedAt: now
                    )
                )
            }
        }
        send(.subAck(SubAckPacket(packetIdentifier: subscribe.packetIdentifier, reasonCodes: codes)), context: context)
        deliverRetained(session: session, context: context)
    }

    /// The SUBACK code of a subscription refused for `reason`: the reason code itself in MQTT 5,
    /// 0x80 in 3.1.1. MQTT 3.1 has no failure code, so a 3.1 client is answered with the QoS it
    /// asked for while the subscription is not made, as Mosquitto answers it; the refusal is
    /// logged, since the client cannot tell.
    private func refusalCode(_ reason: ReasonCode, for request: TopicSubscription) -> UInt8 {
        switch version {
        case .v5:
            return reason.rawValue
        case .v311:
            return 0x80
        case .v31:
            logger.info(
                "subscription refused; MQTT 3.1 has no failure code, so SUBACK grants the requested QoS",
                metadata: [
                    "mqtt.topic_filter": "\(request.topicFilter)", "mqtt.reason_code": "\(reason.rawValue)",
                ])
            return request.options.qos.rawValue
        }
    }

    /// Retained messages found by SUBSCRIBE go out a bounded number per event-loop turn, so that
    /// a SUBSCRIBE that matches a hundred thousand of them does not keep the other connections
    /// of this loop waiting; meanwhile nothing more is read from this connection.
    func deliverRetained(session: Session, context: ChannelHandlerContext) {
        let now = broker.clock.now()
        var delivered = 0
        while delivered < Self.retainedPerTurn, let delivery = retainedBacklog.popFirst() {
            session.deliver(delivery, now: now)
            delivered += 1
        }
        guard !retainedBacklog.isEmpty, !closing else {
            retainedBacklog.removeAll()
            if readGate.isPaused(for: .retainedDelivery) { resume(.retainedDelivery, context: context) }
            return
        }
        pause(.retainedDelivery)
        let loopBound = NIOLoopBound((self, context, session), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (handler, context, session) = loopBound.value
            handler.deliverRetained(session: session, context: context)
        }
    }

    /// How many retained messages one SUBSCRIBE hands to its session per event-loop turn.
    static let retainedPerTurn = 256

    /// UNSUBSCRIBE: remove each filter; MQTT 5 says per filter whether it existed.
    func handleUnsubscribe(_ unsubscribe: UnsubscribePacket, session: Session, context: ChannelHandlerContext) {
        let placeholder = UnsubAckPacket(
            packetIdentifier: unsubscribe.packetIdentifier,
            reasonCodes: version == .v5 ? unsubscribe.topicFilters.map { _ in .success } : [])
        guard answerFits(.unsubAck(placeholder), context: context) else { return }
        var codes: [ReasonCode] = []
        for full in unsubscribe.topicFilters {
            var filter = full
            var group: String?
            if case .success(let shared)? = SharedSubscription.parse(full) {
                group = shared.group
                filter = shared.filter
            }
            let removed = broker.router.unsubscribe(session, filter: filter, shareGroup: group)
            session.core.withLock { core in
                if core.subscriptions.removeValue(forKey: full) != nil, core.persisted {
                    session.store?.deleteSubscription(clientIdentifier: session.clientIdentifier, filter: full)
                }
            }
            codes.append(removed ? .success : .noSubscriptionExisted)
        }
        send(
            .unsubAck(
                UnsubAckPacket(
                    packetIdentifier: unsubscribe.packetIdentifier,
                    reasonCodes: version == .v5 ? codes : []
                )
            ),
            context: context
        )
    }
}

/// Whether a SUBSCRIBE filter may be added to a session.
private enum SubscriptionAdmission {
    case admitted
    case limitReached
    case sessionEnded
}
