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
        var retainedDeliveries: [OutboundMessage] = []
        let now = broker.clock.now()
        let failure = version == .v5 ? ReasonCode.topicFilterInvalid.rawValue : 0x80
        let principal = self.principal ?? session.principal

        for request in subscribe.subscriptions {
            var filter = request.topicFilter
            var group: String?
            switch SharedSubscription.parse(filter) {
            case .success(let shared)?:
                guard broker.config.sharedSubscriptions else {
                    codes.append(version == .v5 ? ReasonCode.sharedSubscriptionsNotSupported.rawValue : 0x80)
                    continue
                }
                if request.options.noLocal {
                    violation(.protocolError, "No Local set on shared subscription '\(filter)'", context: context)
                    return
                }
                group = shared.group
                filter = shared.filter
            case .failure?:
                codes.append(failure)
                continue
            case nil:
                if Topic.validateFilter(filter) != nil {
                    codes.append(failure)
                    continue
                }
            }
            if exceedsTopicLevels(filter) {
                codes.append(failure)
                continue
            }
            if let refusal = broker.router.checkSubscribe(filter, by: principal) {
                logger.debug(
                    "subscription refused: \(refusal)", metadata: ["mqtt.topic_filter": "\(request.topicFilter)"])
                codes.append(version == .v5 ? ReasonCode.notAuthorized.rawValue : 0x80)
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
            let live = session.core.withLock { core in
                guard !core.ended else { return false }
                core.subscriptions[subscription.fullFilter] = subscription
                if let store = session.store, core.isPersistent {
                    store.saveSubscription(
                        clientIdentifier: session.clientIdentifier,
                        StoredSubscription(
                            filter: subscription.fullFilter, options: request.options, identifier: identifier)
                    )
                    core.persisted = true
                }
                return true
            }
            guard live else { return }
            let existed = broker.router.subscribe(session, subscription)
            if session.core.withLock({ $0.ended }) {
                broker.router.unsubscribeAll(session, subscriptions: [subscription])
                return
            }
            codes.append(request.options.qos.rawValue)

            let handling = request.options.retainHandling
            guard group == nil, handling == 0 || (handling == 1 && !existed) else { continue }
            for message in broker.router.retainedMessages(matching: filter, for: principal, now: now) {
                retainedDeliveries.append(
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
        for delivery in retainedDeliveries {
            session.deliver(delivery, now: now)
        }
    }

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
