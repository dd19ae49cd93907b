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
}
