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
        if publish.retain && !broker.config.retainAvailable {
            violation(.retainNotSupported, "retained messages are disabled on this broker", context: context)
            return
        }

        if let acl = broker.accessControl.acl,
            !acl.allows(
                .write, topic: topic,
                for: identity ?? ClientIdentity(username: nil, clientIdentifier: clientIdentifier))
        {
            refuseUnauthorized(publish, topic: topic, session: session, context: context)
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
            origin: .client(id: clientIdentifier),
            receivedAt: broker.clock.now()
        )

        switch publish.qos {
        case .atMostOnce:
            if !isSystemTopic(topic) {
                routeAtMostOnce(message, session: session, context: context)
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

    /// A PUBLISH the ACL forbids is not routed. MQTT 5 clients get reason 0x87 in PUBACK or
    /// PUBREC; MQTT 3.1.1 cannot say no, so the message is acknowledged as usual and dropped,
    /// as Mosquitto does.
    private func refuseUnauthorized(
        _ publish: PublishPacket,
        topic: String,
        session: Session,
        context: ChannelHandlerContext
    ) {
        logger.debug("PUBLISH refused by the ACL", metadata: ["mqtt.topic": "\(topic)"])
        guard let identifier = publish.packetIdentifier, publish.qos != .atMostOnce else { return }
        if version == .v5 {
            // A PUBREC with a failure code ends the QoS 2 flow: nothing awaits PUBREL.
            acknowledge(qos: publish.qos, identifier: identifier, reason: .notAuthorized, context: context)
            return
        }
        if publish.qos == .exactlyOnce {
            _ = session.core.withLock { $0.state.receiveQoS2(identifier) }
        }
        acknowledge(qos: publish.qos, identifier: identifier, reason: .success, context: context)
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
        guard isNew, !isSystemTopic(message.topic) else {
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
        if result.awaitsDurability {
            let cost = Self.storeCost(of: message)
            pendingAcks.append(
                PendingAck(ticket: ticket, qos: qos, identifier: identifier, reason: nil, storeBytes: cost))
            storeWriteStarted(bytes: cost)
            checkPendingAcks(context: context)
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
        let storeBytes = pendingAcks[index].storeBytes
        defer {
            // Last, once the acknowledgements went out: resuming may handle more packets.
            if !closing {
                storeWriteFinished(bytes: storeBytes, context: context)
                checkPendingAcks(context: context)
            }
        }
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
            checkPendingAcks(context: context)
        }
    }

    private func ackPacket(qos: QoS, identifier: UInt16, reason: ReasonCode) -> MQTTPacket {
        let ack = PubAckPacket(packetIdentifier: identifier, reasonCode: reason)
        return qos == .exactlyOnce ? .pubRec(ack) : .pubAck(ack)
    }

    private func isSystemTopic(_ topic: String) -> Bool {
        // Clients may not inject broker statistics.
        topic.utf8.starts(with: "$SYS".utf8)
    }

    private func ackReason(_ matched: Int) -> ReasonCode {
        version == .v5 && matched == 0 ? .noMatchingSubscribers : .success
    }
}
