import NIOCore

/// UNSUBACK: the server's answer to UNSUBSCRIBE.
public struct UnsubAckPacket: Sendable, Hashable {
    /// The identifier of the UNSUBSCRIBE being acknowledged.
    public var packetIdentifier: UInt16
    /// MQTT 5: one code per topic filter, in request order; empty (and not sent) in 3.1.1.
    public var reasonCodes: [ReasonCode]
    /// MQTT 5 properties (reason string, user properties).
    public var properties: MQTTProperties

    /// Creates an UNSUBACK packet.
    public init(packetIdentifier: UInt16, reasonCodes: [ReasonCode] = [], properties: MQTTProperties = MQTTProperties())
    {
        self.packetIdentifier = packetIdentifier
        self.reasonCodes = reasonCodes
        self.properties = properties
    }
}

extension UnsubAckPacket {
    static func decode(body: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTDecodeError) -> UnsubAckPacket {
        let packetIdentifier = try body.readMQTTPacketIdentifier()
        // 3.1.1 has nothing more; the caller reports any trailing bytes.
        guard version == .v5 else { return UnsubAckPacket(packetIdentifier: packetIdentifier) }
        let properties = try MQTTProperties.decode(from: &body, in: .unsubAck)
        var reasonCodes: [ReasonCode] = []
        reasonCodes.reserveCapacity(body.readableBytes)
        while let raw = body.readInteger(as: UInt8.self) {
            guard let code = ReasonCode(rawValue: raw), code.isValidUnsubAck else {
                throw .malformed("\(hex(raw)) is not an UNSUBACK reason code")
            }
            reasonCodes.append(code)
        }
        if reasonCodes.isEmpty { throw .protocolError("UNSUBACK has no reason code") }
        return UnsubAckPacket(packetIdentifier: packetIdentifier, reasonCodes: reasonCodes, properties: properties)
    }

    func remainingLength(version: MQTTProtocolVersion) -> Int {
        version == .v5 ? 2 + properties.encodedSize + reasonCodes.count : 2
    }

    func writeBody(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        buffer.writeInteger(packetIdentifier)
        guard version == .v5 else { return }
        try properties.write(into: &buffer)
        for code in reasonCodes { buffer.writeInteger(code.rawValue) }
    }
}
