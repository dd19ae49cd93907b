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
            routeAtMostOnce(message, session: session, context: context)
        case .atLeastOnce:
            guard let identifier = publish.packetIdentifier else { return }
            routeAndAcknowledge(
                message, session: session, identifier: identifier, ticket: takeTicket(), context: context)
        case .exactlyOnce:
            guard let identifier = publish.packetIdentifier else { return }
            receiveExactlyOnce(message, session: session, identifier: identifier, context: context)
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
            // A PUBREC with a failure code ends the QoS 2 flow: nothing awaits PUBREL.
            acknowledge(qos: message.qos, identifier: identifier, reason: .notAuthorized, context: context)
            return
        }
        acknowledge(qos: message.qos, identifier: identifier, reason: .success, context: context)
    }

    func logRefusal(_ refusal: Authorizer.Refusal, topic: String) {
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

    /// An inbound QoS 2 PUBLISH. A new identifier is routed; a resend of one not yet released is
    /// never routed again (that makes QoS 2 exactly once): it is acknowledged at once when its
    /// message was kept, or, while the first copy's write is pending (on this connection or on
    /// the one before), with that write's outcome once it is known.
    private func receiveExactlyOnce(
        _ message: Message,
        session: Session,
        identifier: UInt16,
        context: ChannelHandlerContext
    ) {
        let ticket = takeTicket()
        let answer = ackCallback(ticket: ticket, session: session, context: context)
        let (receipt, outstanding): (SessionState.InboundReceipt, Int) = session.core.withLock { core in
            let receipt = core.state.receiveQoS2(identifier)
            if receipt == .duplicateRouting { core.inboundWaiters[identifier, default: []].append(answer) }
            return (receipt, core.state.awaitingRelease.count)
        }
        switch receipt {
        case .new:
            if outstanding > broker.config.maxInflightMessages {
                session.inboundDecided(identifier, .failed("receive maximum exceeded"))
                violation(
                    .receiveMaximumExceeded,
                    "more than \(broker.config.maxInflightMessages) QoS 2 messages unreleased",
                    context: context
                )
                return
            }
            routeAndAcknowledge(message, session: session, identifier: identifier, ticket: ticket, context: context)
        case .duplicateStored:
            acknowledge(qos: .exactlyOnce, identifier: identifier, reason: .success, context: context)
        case .duplicateRouting:
            pendingAcks.append(PendingAck(ticket: ticket, qos: .exactlyOnce, identifier: identifier, reason: nil))
        }
    }

    /// Routes a QoS 1/2 message and queues its PUBACK/PUBREC. When an uplink forward rule took
    /// the message (or, at QoS 2, a persistent session's record of its identifier), the
    /// acknowledgement waits until it is on disk; acknowledgements leave in the order the
    /// PUBLISH packets came (MQTT §4.6).
    private func routeAndAcknowledge(
        _ message: Message,
        session: Session,
        identifier: UInt16,
        ticket: UInt64,
        context: ChannelHandlerContext
    ) {
        let qos = message.qos
        let answer = ackCallback(ticket: ticket, session: session, context: context)
        var recordIdentifier: ((@escaping @Sendable (DurableOutcome) -> Void) -> Void)?
        if qos == .exactlyOnce, let store = session.store, session.core.withLock({ $0.isPersistent }) {
            let clientIdentifier = session.clientIdentifier
            recordIdentifier = { completion in
                store.saveInboundQoS2(
                    clientIdentifier: clientIdentifier, packetIdentifier: identifier, completion: completion)
            }
        }
        let result = broker.router.publish(
            message,
            from: session,
            whenDurable: { outcome in
                if qos == .exactlyOnce { session.inboundDecided(identifier, outcome) }
                answer(outcome)
            },
            alsoAwait: recordIdentifier
        )
        if let refusal = result.refusal {
            if qos == .exactlyOnce {
                // MQTT 5 ends the flow with the refusal; MQTT 3.1.1 is told success and awaits PUBREL.
                session.inboundDecided(identifier, version == .v5 ? .failed("\(refusal)") : .stored)
            }
            refuseUnauthorized(message, refusal: refusal, session: session, identifier: identifier, context: context)
        } else if result.awaitsDurability {
            let cost = Self.storeCost(of: message)
            pendingAcks.append(
                PendingAck(ticket: ticket, qos: qos, identifier: identifier, reason: nil, storeBytes: cost))
            storeWriteStarted(bytes: cost)
            checkPendingAcks(context: context)
        } else {
            if qos == .exactlyOnce { session.inboundDecided(identifier, .stored) }
            acknowledge(qos: qos, identifier: identifier, reason: ackReason(result.matched), context: context)
        }
    }

    /// A new number for an acknowledgement that may have to wait.
    private func takeTicket() -> UInt64 {
        defer { nextAckTicket &+= 1 }
        return nextAckTicket
    }

    /// The callback that brings a write's outcome back to this connection's event loop, to fill
    /// in the acknowledgement queued under `ticket`.
    private func ackCallback(
        ticket: UInt64,
        session: Session,
        context: ChannelHandlerContext
    ) -> @Sendable (DurableOutcome) -> Void {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        return { outcome in
            eventLoop.execute {
                let (handler, context) = loopBound.value
                handler.durabilityDecided(ticket: ticket, outcome: outcome, session: session, context: context)
            }
        }
    }

    /// A forward rule's store answered: fill in that acknowledgement and send every one that
    /// is now at the front of the queue. The session's inbound QoS 2 state was updated already,
    /// on the thread of the answer, so an answer that finds this connection closed still frees
    /// (or keeps) the identifier rightly.
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
            // A refused PUBREC ends the QoS 2 flow; the identifier was freed with the outcome.
            pendingAcks[index].reason = reason
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

    private func ackReason(_ matched: Int) -> ReasonCode {
        version == .v5 && matched == 0 ? .noMatchingSubscribers : .success
    }
}
