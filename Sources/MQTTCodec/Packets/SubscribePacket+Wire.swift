import NIOCore
import WharfCore

extension SubscribePacket {
    static func decode(body: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTDecodeError) -> SubscribePacket
    {
        let packetIdentifier = try body.readMQTTPacketIdentifier()
        let properties = version == .v5 ? try MQTTProperties.decode(from: &body, in: .subscribe) : MQTTProperties()
        var subscriptions: [TopicSubscription] = []
        while body.readableBytes > 0 {
            let topicFilter = try body.readMQTTString("topic filter")
            let byte = try body.readMQTTByte("subscription options")
            let options = try SubscriptionOptions.decode(byte, version: version, topicFilter: topicFilter)
            subscriptions.append(TopicSubscription(topicFilter: topicFilter, options: options))
        }
        if subscriptions.isEmpty { throw .protocolError("SUBSCRIBE has no topic filter") }
        return SubscribePacket(packetIdentifier: packetIdentifier, subscriptions: subscriptions, properties: properties)
    }

    func remainingLength(version: MQTTProtocolVersion) -> Int {
        var size = 2
        if version == .v5 { size += properties.encodedSize }
        for subscription in subscriptions { size += stringFieldSize(subscription.topicFilter) + 1 }
        return size
    }

    func writeBody(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        buffer.writeInteger(packetIdentifier)
        if version == .v5 { try properties.write(into: &buffer) }
        for subscription in subscriptions {
            try buffer.writeMQTTString(subscription.topicFilter, "topic filter")
            buffer.writeInteger(try subscription.options.encoded(version: version))
        }
    }
}

extension SubscriptionOptions {
    /// Decodes an options byte: 3.1 and 3.1.1 have only the QoS bits; in 5.0 QoS 3 and retain handling 3 are
    /// protocol errors while the two top bits are reserved.
    static func decode(
        _ byte: UInt8,
        version: MQTTProtocolVersion,
        topicFilter: String
    ) throws(MQTTDecodeError) -> SubscriptionOptions {
        switch version {
        case .v31, .v311:
            guard byte & 0xFC == 0 else { throw .malformed("reserved subscription option bits are set") }
            guard let qos = QoS(rawValue: byte) else { throw .malformed("requested QoS 3 is not valid") }
            return SubscriptionOptions(qos: qos)
        case .v5:
            guard byte & 0xC0 == 0 else { throw .malformed("reserved subscription option bits are set") }
            guard let qos = QoS(rawValue: byte & 0x03) else { throw .protocolError("maximum QoS 3 is not valid") }
            let retainHandling = (byte >> 4) & 0x03
            guard retainHandling != 3 else { throw .protocolError("retain handling 3 is not valid") }
            let noLocal = byte & 0x04 != 0
            if noLocal && topicFilter.utf8.starts(with: "$share/".utf8) {
                throw .protocolError("no local set on shared subscription \"\(topicFilter)\"")
            }
            return SubscriptionOptions(
                qos: qos,
                noLocal: noLocal,
                retainAsPublished: byte & 0x08 != 0,
                retainHandling: retainHandling
            )
        }
    }

    /// The options byte for `version`; 3.1 and 3.1.1 carry only the QoS.
    func encoded(version: MQTTProtocolVersion) throws(MQTTEncodeError) -> UInt8 {
        guard version == .v5 else { return qos.rawValue }
        guard retainHandling <= 2 else {
            throw MQTTEncodeError(message: "retain handling \(retainHandling) is not 0, 1 or 2")
        }
        var byte = qos.rawValue | retainHandling << 4
        if noLocal { byte |= 0x04 }
        if retainAsPublished { byte |= 0x08 }
        return byte
    }
}
