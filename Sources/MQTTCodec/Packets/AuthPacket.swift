import NIOCore

/// AUTH: a step of MQTT 5 extended authentication (does not exist in 3.1.1).
public struct AuthPacket: Sendable, Hashable {
    /// success, continueAuthentication or reAuthenticate.
    public var reasonCode: ReasonCode
    /// Properties (authentication method and data, reason string, user properties).
    public var properties: MQTTProperties

    /// Creates an AUTH packet.
    public init(reasonCode: ReasonCode = .success, properties: MQTTProperties = MQTTProperties()) {
        self.reasonCode = reasonCode
        self.properties = properties
    }
}

extension AuthPacket {
    static func decode(body: inout ByteBuffer) throws(MQTTDecodeError) -> AuthPacket {
        guard let raw = body.readInteger(as: UInt8.self) else { return AuthPacket() }
        guard let reasonCode = ReasonCode(rawValue: raw), reasonCode.isValidAuth else {
            throw .malformed("\(hex(raw)) is not an AUTH reason code")
        }
        let properties = body.readableBytes > 0 ? try MQTTProperties.decode(from: &body, in: .auth) : MQTTProperties()
        return AuthPacket(reasonCode: reasonCode, properties: properties)
    }

    /// Omits reason and properties only when both are defaults, as the specification allows.
    var remainingLength: Int {
        reasonCode == .success && properties.isEmpty ? 0 : 1 + properties.encodedSize
    }

    func writeBody(into buffer: inout ByteBuffer) throws(MQTTEncodeError) {
        guard reasonCode != .success || !properties.isEmpty else { return }
        buffer.writeInteger(reasonCode.rawValue)
        try properties.write(into: &buffer)
    }
}
