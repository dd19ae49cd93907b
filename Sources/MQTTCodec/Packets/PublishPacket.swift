public import NIOCore
public import WharfCore

/// PUBLISH: an application message, in either direction.
public struct PublishPacket: Sendable, Hashable {
    /// The topic name; empty only in MQTT 5 when `properties.topicAlias` stands for it.
    public var topic: String
    /// The payload; when decoded, a slice of the received bytes (no copy).
    public var payload: ByteBuffer
    /// The delivery QoS.
    public var qos: QoS
    /// The retain flag.
    public var retain: Bool
    /// Whether this is a redelivery (meaningful only for QoS 1 and 2; never written for QoS 0).
    public var dup: Bool
    /// The packet identifier: nil exactly when `qos` is 0.
    public var packetIdentifier: UInt16?
    /// MQTT 5 publish properties.
    public var properties: MQTTProperties

    /// Creates a PUBLISH packet.
    public init(
        topic: String,
        payload: ByteBuffer,
        qos: QoS = .atMostOnce,
        retain: Bool = false,
        dup: Bool = false,
        packetIdentifier: UInt16? = nil,
        properties: MQTTProperties = MQTTProperties()
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.dup = dup
        self.packetIdentifier = packetIdentifier
        self.properties = properties
    }
}

extension PublishPacket {
    static func decode(
        flags: UInt8,
        body: inout ByteBuffer,
        version: MQTTProtocolVersion
    ) throws(MQTTDecodeError) -> PublishPacket {
        guard let qos = QoS(rawValue: (flags >> 1) & 0x03) else { throw .malformed("PUBLISH QoS 3 is not valid") }
        let dup = flags & 0x08 != 0
        if dup && qos == .atMostOnce { throw .malformed("DUP set on a QoS 0 PUBLISH") }
        let (topic, hasWildcard) = try body.readMQTTStringScanningWildcards("topic name")
        if hasWildcard {
            throw MQTTDecodeError(reasonCode: .topicNameInvalid, message: "topic name \"\(topic)\" contains a wildcard")
        }
        let packetIdentifier = qos == .atMostOnce ? nil : try body.readMQTTPacketIdentifier()
        var properties = MQTTProperties()
        if version == .v5 {
            properties = try MQTTProperties.decode(from: &body, in: .publish)
            if topic.isEmpty && properties.topicAlias == nil {
                throw .protocolError("PUBLISH has neither a topic name nor a topic alias")
            }
        } else if topic.isEmpty {
            throw .protocolError("PUBLISH topic name is empty")
        }
        let payload = body.readSlice(length: body.readableBytes) ?? ByteBuffer()
        return PublishPacket(
            topic: topic,
            payload: payload,
            qos: qos,
            retain: flags & 0x01 != 0,
            dup: dup,
            packetIdentifier: packetIdentifier,
            properties: properties
        )
    }

    /// The fixed header's low nibble.
    var flags: UInt8 {
        var flags = qos.rawValue << 1
        if retain { flags |= 0x01 }
        if dup && qos != .atMostOnce { flags |= 0x08 }
        return flags
    }

    func remainingLength(version: MQTTProtocolVersion) -> Int {
        var size = stringFieldSize(topic) + payload.readableBytes
        if qos != .atMostOnce { size += 2 }
        if version == .v5 { size += properties.encodedSize }
        return size
    }

    func writeBody(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        try writeVariableHeader(into: &buffer, version: version)
        buffer.writeImmutableBuffer(payload)
    }

    private func writeVariableHeader(into buffer: inout ByteBuffer, version: MQTTProtocolVersion)
        throws(MQTTEncodeError)
    {
        try buffer.writeMQTTString(topic, "topic name")
        if qos != .atMostOnce {
            guard let packetIdentifier else {
                throw MQTTEncodeError(message: "a QoS \(qos.rawValue) PUBLISH needs a packet identifier")
            }
            buffer.writeInteger(packetIdentifier)
        }
        if version == .v5 { try properties.write(into: &buffer) }
    }
}

extension PublishPacket {
    /// Writes the packet without its payload, which the caller sends next as its own buffer.
    ///
    /// Lets a server fan one payload out to many subscribers with vectored writes instead of
    /// copying it into every packet. The bytes written plus `payload` equal what `encode` writes.
    public func encodeHeader(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        let remainingLength = remainingLength(version: version)
        guard remainingLength <= MQTTPacket.maximumRemainingLength else {
            throw MQTTEncodeError(message: "PUBLISH remaining length \(remainingLength) exceeds 268435455")
        }
        let start = buffer.writerIndex
        buffer.writeInteger(MQTTPacketType.publish.rawValue << 4 | flags)
        buffer.writeMQTTVariableByteInteger(remainingLength)
        do {
            try writeVariableHeader(into: &buffer, version: version)
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
    }
}
