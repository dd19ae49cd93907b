import NIOCore

/// SUBACK: the server's answer to SUBSCRIBE, one code per requested subscription.
public struct SubAckPacket: Sendable, Hashable {
    /// The identifier of the SUBSCRIBE being acknowledged.
    public var packetIdentifier: UInt16
    /// Raw codes in request order: the granted QoS (0, 1, 2) or a failure (0x80 and above).
    ///
    /// 3.1.1 knows only 0x80 as failure: any failure is written as 0x80 for a 3.1.1 peer. 3.1 has
    /// no failure code at all: a SUBACK with one cannot be encoded for a 3.1 peer.
    public var reasonCodes: [UInt8]
    /// MQTT 5 properties (reason string, user properties).
    public var properties: MQTTProperties

    /// Creates a SUBACK packet.
    public init(packetIdentifier: UInt16, reasonCodes: [UInt8], properties: MQTTProperties = MQTTProperties()) {
        self.packetIdentifier = packetIdentifier
        self.reasonCodes = reasonCodes
        self.properties = properties
    }
}

extension SubAckPacket {
    static func decode(body: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTDecodeError) -> SubAckPacket {
        let packetIdentifier = try body.readMQTTPacketIdentifier()
        let properties = version == .v5 ? try MQTTProperties.decode(from: &body, in: .subAck) : MQTTProperties()
        let reasonCodes = body.readBytes(length: body.readableBytes) ?? []
        if reasonCodes.isEmpty { throw .protocolError("SUBACK has no reason code") }
        for code in reasonCodes {
            let valid: Bool
            switch version {
            case .v31: valid = code <= 2
            case .v311: valid = code <= 2 || code == 0x80
            case .v5: valid = ReasonCode.isValidSubAck(code)
            }
            guard valid else { throw .malformed("\(hex(code)) is not a SUBACK reason code") }
        }
        return SubAckPacket(packetIdentifier: packetIdentifier, reasonCodes: reasonCodes, properties: properties)
    }

    func remainingLength(version: MQTTProtocolVersion) -> Int {
        var size = 2 + reasonCodes.count
        if version == .v5 { size += properties.encodedSize }
        return size
    }

    func writeBody(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        buffer.writeInteger(packetIdentifier)
        switch version {
        case .v5:
            try properties.write(into: &buffer)
            buffer.writeBytes(reasonCodes)
        case .v311:
            for code in reasonCodes { buffer.writeInteger(code <= 2 ? code : 0x80) }
        case .v31:
            if let failure = reasonCodes.first(where: { $0 > 2 }) {
                throw MQTTEncodeError(message: "MQTT 3.1 has no SUBACK failure code (got \(hex(failure)))")
            }
            buffer.writeBytes(reasonCodes)
        }
    }
}
