import DequeModule
import Logging
import MQTTCodec
import NIOCore
import Synchronization
import WharfAuth
import WharfConfig
import WharfCore

extension MQTTConnectionHandler {
    /// PUBLISH from the client: resolve a topic alias, check limits, route, acknowledge
    /// (MQTT §3.3, §4.3).
    func handlePublish(_ publish: PublishPacket, session: Session, context: ChannelHandlerContext) {
        var topic = publish.topic
        if version == .v5, let alias = publish.properties.topicAlias {
            guard alias > 0, Int(alias) <= broker.config.maxTopicAlias else {
                violation(
                    .topicAliasInvalid, "topic alias \(alias) is outside 1...\(broker.config.maxTopicAlias)",
                    context: context)
                return
            }
            if topic.isEmpty {
                guard let known = topicAliases[alias] else {
                    violation(.protocolError, "topic alias \(alias) was never set", context: context)
                    return
                }
                topic = known
            } else {
                topicAliases[alias] = topic
            }
        } else if topic.isEmpty {
            violation(.protocolError, "PUBLISH without a topic", context: context)
            return
        }
        if exceedsTopicLevels(topic) {
            refuseTopicLevels(publish, context: context)
            return
        }
        if publish.retain && !broker.config.retainAvailable {
            violation(.retainNotSupported, "retained messages are disabled on this broker", context: context)
            return
        }

        var properties = publish.properties.messageProperties
        properties.messageExpiryInterval = publish.properties.messageExpiryInterval
        let message = Message(
            topic: topic,
            payload: publish.payload,
            qos: publish.qos,
            retain: publish.retain,
            properties: properties,
            principal: principal ?? session.principal,
            receivedAt: broker.clock.now()
        )

        switch publish.qos {
        case .atMostOnce:
            if let refusal = broker.router.publish(message, from: session, whenDurable: nil).refusal {
                logRefusal(refusal, topic: topic)
            }
        case .atLeastOnce:
            guard let identifier = publish.packetIdentifier else { return }
            routeAndAcknowledge(message, session: session, identifier: identifier, isNew: true, context: context)
        case .exactlyOnce:
            guard let identifier = publish.packetIdentifier else { return }
            let (isNew, outstanding) = session.core.withLock { core in
                (core.state.receiveQoS2(identifier), core.state.awaitingRelease.count)
            }
            if isNew && outstanding > broker.config.maxInflightMessages {
                violation(
                    .receiveMaximumExceeded,
                    "more than \(broker.config.maxInflightMessages) QoS 2 messages unreleased",
                    context: context
                )
                return
            }
            // A retransmission of an unreleased identifier is acknowledged but not routed again:
            // that is what makes QoS 2 exactly once.
            routeAndAcknowledge(message, session: session, identifier: identifier, isNew: isNew, context: context)
        }
    }

    /// A PUBLISH the router refused (the ACL, or `$SYS`) was not routed. MQTT 5 clients get
    /// reason 0x87 in PUBACK or PUBREC; MQTT 3.1.1 cannot say no, so the message is acknowledged
    /// as usual and dropped, as Mosquitto does.
    private func refuseUnauthorized(
        _ message: Message,
        refusal: Authorizer.Refusal,
        session: Session,
        identifier: UInt16,
        context: ChannelHandlerContext
    ) {
        logRefusal(refusal, topic: message.topic)
        if version == .v5 {
            if message.qos == .exactlyOnce {
                // A PUBREC with a failure code ends the QoS 2 flow: nothing awaits PUBREL.
                _ = session.core.withLock { $0.state.release(identifier) }
            }
            acknowledge(qos: message.qos, identifier: identifier, reason: .notAuthorized, context: context)
            return
        }
        acknowledge(qos: message.qos, identifier: identifier, reason: .success, context: context)
    }

    private func logRefusal(_ refusal: Authorizer.Refusal, topic: String) {
        logger.debug("PUBLISH refused: \(refusal)", metadata: ["mqtt.topic": "\(topic)"])
    }

    /// A PUBLISH to more levels than `max_topic_levels` is not routed. An MQTT 5 client is told
    /// 0x90 (Topic Name invalid): in the PUBACK or PUBREC at QoS 1/2, which ends that flow and
    /// keeps the connection; by DISCONNECT at QoS 0, which has no acknowledgement. MQTT 3.1.1
    /// cannot refuse a message, so the connection is closed (Mosquitto closes in every case).
    private func refuseTopicLevels(_ publish: PublishPacket, context: ChannelHandlerContext) {
        guard version == .v5, let identifier = publish.packetIdentifier, publish.qos != .atMostOnce else {
            violation(
                .topicNameInvalid, "topic has more than \(broker.config.maxTopicLevels) levels", context: context)
            return
        }
        acknowledge(qos: publish.qos, identifier: identifier, reason: .topicNameInvalid, context: context)
    }

    /// Routes a QoS 1/2 message and queues its PUBACK/PUBREC. When an uplink forward rule took
    /// the message, the acknowledgement waits until it is on disk; acknowledgements leave in
    /// the order the PUBLISH packets came (MQTT §4.6).
    private func routeAndAcknowledge(
        _ message: Message,
        session: Session,
        identifier: UInt16,
        isNew: Bool,
        context: ChannelHandlerContext
    ) {
        let qos = message.qos
        guard isNew else {
            acknowledge(qos: qos, identifier: identifier, reason: .success, context: context)
            return
        }
        let ticket = nextAckTicket
        nextAckTicket &+= 1
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let result = broker.router.publish(message, from: session) { outcome in
            eventLoop.execute {
                let (handler, context) = loopBound.value
                handler.durabilityDecided(ticket: ticket, outcome: outcome, session: session, context: context)
            }
        }
        if let refusal = result.refusal {
            refuseUnauthorized(message, refusal: refusal, session: session, identifier: identifier, context: context)
        } else if result.awaitsDurability {
            pendingAcks.append(PendingAck(ticket: ticket, qos: qos, identifier: identifier, reason: nil))
        } else {
            acknowledge(qos: qos, identifier: identifier, reason: ackReason(result.matched), context: context)
        }
    }

    /// A forward rule's store answered: fill in that acknowledgement and send every one that
    /// is now at the front of the queue.
    private func durabilityDecided(
        ticket: UInt64,
        outcome: DurableOutcome,
        session: Session,
        context: ChannelHandlerContext
    ) {
        guard !closing, let index = pendingAcks.firstIndex(where: { $0.ticket == ticket }) else { return }
        switch outcome {
        case .stored:
            pendingAcks[index].reason = .success
        case .rejectedQueueFull, .failed:
            let reason: ReasonCode = outcome == .rejectedQueueFull ? .quotaExceeded : .implementationSpecificError
            guard version == .v5 else {
                // MQTT 3.1.1 cannot refuse a message; closing without acknowledging leaves it
                // with the client, which sends it again after reconnecting.
                logger.warning("closing MQTT 3.1.1 client: its message could not be queued (\(outcome))")
                close(context: context)
                return
            }
            pendingAcks[index].reason = reason
            if pendingAcks[index].qos == .exactlyOnce {
                // A refused PUBREC ends the QoS 2 flow; the identifier is free again.
                _ = session.core.withLock { $0.state.release(pendingAcks[index].identifier) }
            }
        }
        var sent = false
        while let first = pendingAcks.first, let reason = first.reason {
            pendingAcks.removeFirst()
            send(ackPacket(qos: first.qos, identifier: first.identifier, reason: reason), context: context)
            sent = true
        }
        if sent { flushOutbound(context: context) }
    }

    private func acknowledge(qos: QoS, identifier: UInt16, reason: ReasonCode, context: ChannelHandlerContext) {
        if pendingAcks.isEmpty {
            send(ackPacket(qos: qos, identifier: identifier, reason: reason), context: context)
        } else {
            pendingAcks.append(PendingAck(ticket: 0, qos: qos, identifier: identifier, reason: reason))
        }
    }

    private func ackPacket(qos: QoS, identifier: UInt16, reason: ReasonCode) -> MQTTPacket {
        let ack = PubAckPacket(packetIdentifier: identifier, reasonCode: reason)
        return qos == .exactlyOnce ? .pubRec(ack) : .pubAck(ack)
    }

    private func ackReason(_ matched: Int) -> ReasonCode {
        version == .v5 && matched == 0 ? .noMatchingSubscribers : .success
    }
}
