import NIOCore

/// DISCONNECT: the last packet of a connection, from either side in MQTT 5 (client only in 3.1.1).
public struct DisconnectPacket: Sendable, Hashable {
    /// Why the connection ends; not sent in 3.1.1.
    public var reasonCode: ReasonCode
    /// MQTT 5 properties (session expiry, reason string, server reference, user properties).
    public var properties: MQTTProperties

    /// Creates a DISCONNECT packet.
    public init(reasonCode: ReasonCode = .normalDisconnection, properties: MQTTProperties = MQTTProperties()) {
        self.reasonCode = reasonCode
        self.properties = properties
    }
}

extension DisconnectPacket {
    static func decode(body: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTDecodeError) -> DisconnectPacket
    {
        // 3.1.1 has no body; the caller reports any bytes. 5.0 may omit reason and properties.
        guard version == .v5, let raw = body.readInteger(as: UInt8.self) else { return DisconnectPacket() }
        guard let reasonCode = ReasonCode(rawValue: raw), reasonCode.isValidDisconnect else {
            throw .malformed("\(hex(raw)) is not a DISCONNECT reason code")
        }
        let properties =
            body.readableBytes > 0 ? try MQTTProperties.decode(from: &body, in: .disconnect) : MQTTProperties()
        return DisconnectPacket(reasonCode: reasonCode, properties: properties)
    }

    func remainingLength(version: MQTTProtocolVersion) -> Int {
        guard version == .v5 else { return 0 }
        if properties.isEmpty { return reasonCode == .success ? 0 : 1 }
        return 1 + properties.encodedSize
    }

    func writeBody(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        guard version == .v5, reasonCode != .success || !properties.isEmpty else { return }
        buffer.writeInteger(reasonCode.rawValue)
        if !properties.isEmpty { try properties.write(into: &buffer) }
    }
}
