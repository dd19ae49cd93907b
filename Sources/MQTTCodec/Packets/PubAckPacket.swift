import NIOCore

/// PUBACK, PUBREC, PUBREL or PUBCOMP: the acknowledgments of QoS 1 and 2 delivery.
public struct PubAckPacket: Sendable, Hashable {
    /// The identifier of the PUBLISH (or PUBREC/PUBREL) being acknowledged.
    public var packetIdentifier: UInt16
    /// The MQTT 5 reason code; not sent in 3.1.1.
    public var reasonCode: ReasonCode
    /// MQTT 5 properties (reason string, user properties).
    public var properties: MQTTProperties

    /// Creates an acknowledgment.
    public init(
        packetIdentifier: UInt16, reasonCode: ReasonCode = .success, properties: MQTTProperties = MQTTProperties()
    ) {
        self.packetIdentifier = packetIdentifier
        self.reasonCode = reasonCode
        self.properties = properties
    }
}

extension PubAckPacket {
    /// Decodes the body shared by the four acknowledgments; `type` decides the allowed reason codes.
    static func decode(
        type: MQTTPacketType,
        body: inout ByteBuffer,
        version: MQTTProtocolVersion
    ) throws(MQTTDecodeError) -> PubAckPacket {
        let packetIdentifier = try body.readMQTTPacketIdentifier()
        // 3.1.1 has nothing more; the caller reports any trailing bytes. 5.0 may omit the rest.
        guard version == .v5, let raw = body.readInteger(as: UInt8.self) else {
            return PubAckPacket(packetIdentifier: packetIdentifier)
        }
        let allowed: Bool
        let reasonCode = ReasonCode(rawValue: raw)
        switch type {
        case .pubAck, .pubRec: allowed = reasonCode?.isValidPubAck ?? false
        default: allowed = reasonCode?.isValidPubRel ?? false
        }
        guard allowed, let reasonCode else { throw .malformed("\(hex(raw)) is not a \(type) reason code") }
        let properties =
            body.readableBytes > 0 ? try MQTTProperties.decode(from: &body, in: .pubAck) : MQTTProperties()
        return PubAckPacket(packetIdentifier: packetIdentifier, reasonCode: reasonCode, properties: properties)
    }

    func remainingLength(version: MQTTProtocolVersion) -> Int {
        guard version == .v5 else { return 2 }
        if properties.isEmpty { return reasonCode == .success ? 2 : 3 }
        return 3 + properties.encodedSize
    }

    func writeBody(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        buffer.writeInteger(packetIdentifier)
        guard version == .v5 else { return }
        if properties.isEmpty {
            if reasonCode != .success { buffer.writeInteger(reasonCode.rawValue) }
            return
        }
        buffer.writeInteger(reasonCode.rawValue)
        try properties.write(into: &buffer)
    }
}
