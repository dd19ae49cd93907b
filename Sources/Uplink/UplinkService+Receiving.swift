import AdapterKit
import Logging
import MQTTCodec
import NIOCore
import Synchronization
import WharfCore

extension UplinkService {
    /// Handles what the cloud broker sends until the connection closes or it sends DISCONNECT.
    func receive(_ inbound: inout Inbound, on link: UplinkLink) async throws {
        while let packet = try await inbound.next() {
            switch packet {
            case .pubAck(let ack):
                // The publish handler takes these off the stream; one that gets here is handled the same way.
                acknowledge([.pubAck(ack)])
            case .pubRec(let received):
                acknowledge([.pubRec(received)])
            case .pubComp(let completed):
                acknowledge([.pubComp(completed)])
            case .publish(let publish):
                shared.withLock { $0.keepAlive?.received() }
                try await deliver(publish, on: link)
            case .pubRel(let release):
                shared.withLock { shared in
                    shared.keepAlive?.received()
                    shared.receivedExactlyOnce.remove(release.packetIdentifier)
                }
                try await write([.pubComp(PubAckPacket(packetIdentifier: release.packetIdentifier))], on: link)
            case .subAck(let subAck):
                shared.withLock { shared in
                    shared.keepAlive?.received()
                    _ = shared.window.completeSubscription(subAck.packetIdentifier)
                }
                checkGrants(subAck)
            case .pingResp, .unsubAck:
                shared.withLock { $0.keepAlive?.received() }
            case .disconnect(let disconnect):
                noteDisconnect(disconnect.reasonCode.rawValue)
                let message = "\(endpoint) ended the connection: \(describe(disconnect))"
                logger.warning("Uplink: \(message)", metadata: ["uplink.error": "server-disconnect"])
                link.fail(UplinkError(.serverDisconnected, message))
                return
            case .connect, .connAck, .subscribe, .unsubscribe, .pingReq, .auth:
                // The uplink never authenticates: these cannot be answers to it.
                throw UplinkError(.protocolViolation, "\(endpoint) sent an unexpected \(packet.packetType)")
            }
        }
    }

    /// Publishes a message from a remote subscription into the local broker, then acknowledges it upstream.
    private func deliver(_ publish: PublishPacket, on link: UplinkLink) async throws {
        let identifier = publish.packetIdentifier ?? 0
        let duplicate =
            publish.qos == .exactlyOnce && shared.withLock { !$0.receivedExactlyOnce.insert(identifier).inserted }
        var reason = ReasonCode.success
        if let control = configuration.control, control.matches(publish.topic) {
            // The gateway's own topics never reach the local broker.
            if !duplicate { control.onMessage(publish.topic, Array(publish.payload.readableBytesView)) }
        } else if !duplicate {
            reason = await forward(publish)
        }
        switch publish.qos {
        case .atMostOnce:
            break
        case .atLeastOnce:
            try await write([.pubAck(PubAckPacket(packetIdentifier: identifier, reasonCode: reason))], on: link)
        case .exactlyOnce:
            try await write([.pubRec(PubAckPacket(packetIdentifier: identifier, reasonCode: reason))], on: link)
        }
    }

    /// Maps the topic and publishes into the bus; returns the reason code to acknowledge with.
    private func forward(_ publish: PublishPacket) async -> ReasonCode {
        var remap: TopicRemap? = nil
        var best = Int.max
        subscriptionIndex.forEachMatch(topic: publish.topic) { position, _ in
            if position < best {
                best = position
                remap = configuration.subscriptions[position].remap
            }
        }
        guard let remap else {
            logger.warning("Uplink: message on \(publish.topic) matches no remote subscription; ignored")
            return .success
        }
        let localTopic: String
        do {
            localTopic = try remap.map(publish.topic)
        } catch {
            logger.warning("Uplink: cannot map remote topic: \(error); message ignored")
            return .topicNameInvalid
        }
        let message = Message(
            topic: localTopic,
            payload: publish.payload,
            qos: publish.qos,
            retain: publish.retain,
            properties: publish.properties.messageProperties,
            principal: .uplink,
            receivedAt: clock.now()
        )
        do {
            _ = try await bus.publish(message)
            shared.withLock { $0.status.received += 1 }
            return .success
        } catch {
            logger.warning("Uplink: the local broker refused \(localTopic) from \(publish.topic): \(error)")
            switch error.reason {
            case "quota-exceeded": return .quotaExceeded
            case "topic-invalid": return .topicNameInvalid
            case "not-authorized": return .notAuthorized
            default: return .implementationSpecificError
            }
        }
    }

    /// Logs every remote subscription the server refused or downgraded.
    private func checkGrants(_ subAck: SubAckPacket) {
        for (position, code) in subAck.reasonCodes.enumerated() where position < configuration.subscriptions.count {
            let subscription = configuration.subscriptions[position]
            if code >= 0x80 {
                let name = ReasonCode(rawValue: code).map { "\($0)" } ?? "failure"
                logger.warning(
                    "Uplink: \(endpoint) refused the subscription \(subscription.remoteFilter): 0x\(String(code, radix: 16)) \(name)",
                    metadata: ["uplink.error": "subscribe-refused"]
                )
            } else if code < subscription.qos.rawValue {
                logger.info("Uplink: \(endpoint) granted \(subscription.remoteFilter) QoS \(code) only")
            }
        }
    }
}
