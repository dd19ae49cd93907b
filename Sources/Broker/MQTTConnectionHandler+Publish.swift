import MQTTCodec
import NIOCore
import WharfCore
import WharfConfig
import Synchronization

extension MQTTConnectionHandler {
    /// PUBLISH from the client: resolve a topic alias, check limits, route, acknowledge
    /// (MQTT §3.3, §4.3).
    func handlePublish(_ publish: PublishPacket, session: Session, context: ChannelHandlerContext) {
        var topic = publish.topic
        if version == .v5, let alias = publish.properties.topicAlias {
            guard alias > 0, Int(alias) <= broker.config.maxTopicAlias else {
                violation(.topicAliasInvalid, "topic alias \(alias) is outside 1...\(broker.config.maxTopicAlias)", context: context)
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
            route(message, session: session)
        case .atLeastOnce:
            let matched = route(message, session: session)
            guard let identifier = publish.packetIdentifier else { return }
            send(.pubAck(PubAckPacket(packetIdentifier: identifier, reasonCode: ackReason(matched))), context: context)
        case .exactlyOnce:
            guard let identifier = publish.packetIdentifier else { return }
            let (isNew, outstanding) = session.core.withLock { core in
                (core.state.receiveQoS2(identifier), core.state.awaitingRelease.count)
            }
            if isNew && outstanding > broker.config.maxInflightMessages {
                violation(.receiveMaximumExceeded, "more than \(broker.config.maxInflightMessages) QoS 2 messages unreleased", context: context)
                return
            }
            // A retransmission of an unreleased identifier is acknowledged but not routed again:
            // that is what makes QoS 2 exactly once.
            let matched = isNew ? route(message, session: session) : 1
            send(.pubRec(PubAckPacket(packetIdentifier: identifier, reasonCode: ackReason(matched))), context: context)
        }
    }

    @discardableResult
    private func route(_ message: Message, session: Session) -> Int {
        // Clients may not inject broker statistics.
        if message.topic.utf8.starts(with: "$SYS".utf8) { return 0 }
        return broker.router.publish(message, from: session)
    }

    private func ackReason(_ matched: Int) -> ReasonCode {
        version == .v5 && matched == 0 ? .noMatchingSubscribers : .success
    }
}
