/// Why bytes received from a peer are not an acceptable MQTT packet.
///
/// `reasonCode` is what an MQTT 5 peer would be told (in CONNACK or DISCONNECT); an MQTT 3.1.1
/// peer is simply disconnected, except that a refused CONNECT is answered with the matching
/// return code (`ReasonCode.connectReturnCode`).
public struct MQTTDecodeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The MQTT 5 reason code that describes the failure.
    public var reasonCode: ReasonCode
    /// A human-readable explanation naming the offending field.
    public var message: String
    /// The protocol level a failing CONNECT declared, once it was read; lets a server answer
    /// with a CONNACK of the right version.
    public var protocolVersion: MQTTProtocolVersion?

    /// Creates an error.
    public init(reasonCode: ReasonCode, message: String, protocolVersion: MQTTProtocolVersion? = nil) {
        self.reasonCode = reasonCode
        self.message = message
        self.protocolVersion = protocolVersion
    }

    /// "malformedPacket: <message>".
    public var description: String { "\(reasonCode): \(message)" }

    static func malformed(_ message: String) -> MQTTDecodeError {
        MQTTDecodeError(reasonCode: .malformedPacket, message: message)
    }

    static func protocolError(_ message: String) -> MQTTDecodeError {
        MQTTDecodeError(reasonCode: .protocolError, message: message)
    }
}
