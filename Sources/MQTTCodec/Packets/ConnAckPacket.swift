import NIOCore

/// CONNACK: the server's answer to CONNECT.
public struct ConnAckPacket: Sendable, Hashable {
    /// Whether the server resumed an existing session.
    ///
    /// MQTT 3.1 has no such flag (the byte that holds it is reserved): it is written as 0 and read
    /// as false in 3.1.
    public var sessionPresent: Bool
    /// The raw code: a 3.1 or 3.1.1 return code (0...5) or an MQTT 5 reason code, per the
    /// connection's version.
    ///
    /// When encoding for 3.1 or 3.1.1, an MQTT 5 failure code (0x80 and above) is written as the
    /// matching return code (`ReasonCode.connectReturnCode`), so a server may always use MQTT 5 codes.
    public var reasonCode: UInt8
    /// MQTT 5 CONNACK properties.
    public var properties: MQTTProperties

    /// Creates a CONNACK packet.
    public init(sessionPresent: Bool = false, reasonCode: UInt8 = 0, properties: MQTTProperties = MQTTProperties()) {
        self.sessionPresent = sessionPresent
        self.reasonCode = reasonCode
        self.properties = properties
    }

    /// Creates a CONNACK packet from an MQTT 5 reason code.
    public init(sessionPresent: Bool = false, reason: ReasonCode, properties: MQTTProperties = MQTTProperties()) {
        self.init(sessionPresent: sessionPresent, reasonCode: reason.rawValue, properties: properties)
    }
}

extension ConnAckPacket {
    static func decode(body: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTDecodeError) -> ConnAckPacket {
        let flags = try body.readMQTTByte("connect acknowledge flags")
        // In 3.1 the whole byte is reserved and unused, so it is not checked either.
        guard flags & 0xFE == 0 || version == .v31 else {
            throw .malformed("reserved connect acknowledge flags are set")
        }
        let code = try body.readMQTTByte("connect reason code")
        switch version {
        case .v31, .v311:
            guard code <= 5 else { throw .malformed("connect return code \(code) is reserved") }
        case .v5:
            guard ReasonCode.isValidConnAck(code) else { throw .malformed("\(hex(code)) is not a CONNACK reason code") }
        }
        let sessionPresent = version != .v31 && flags & 0x01 != 0
        if sessionPresent && code != 0 {
            throw .protocolError("session present set on a refused connection")
        }
        let properties = version == .v5 ? try MQTTProperties.decode(from: &body, in: .connAck) : MQTTProperties()
        return ConnAckPacket(sessionPresent: sessionPresent, reasonCode: code, properties: properties)
    }

    func remainingLength(version: MQTTProtocolVersion) -> Int {
        version == .v5 ? 2 + properties.encodedSize : 2
    }

    func writeBody(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        switch version {
        case .v31, .v311:
            var code = reasonCode
            if code > 5 { code = ReasonCode(rawValue: code)?.connectReturnCode ?? 3 }
            // 3.1 has no session present flag: its first byte is reserved and always 0.
            let flags: UInt8 = sessionPresent && version == .v311 ? 1 : 0
            buffer.writeMultipleIntegers(flags, code)
        case .v5:
            buffer.writeMultipleIntegers(UInt8(sessionPresent ? 1 : 0), reasonCode)
            try properties.write(into: &buffer)
        }
    }
}
