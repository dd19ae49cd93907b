/// The MQTT protocol level carried in CONNECT and negotiated for the rest of a connection.
public enum MQTTProtocolVersion: UInt8, Sendable, Hashable, CaseIterable {
    /// MQTT 3.1 (protocol name "MQIsdp", level 3): 3.1.1's packets, with the differences listed
    /// where they are coded (CONNECT, CONNACK, SUBACK and the fixed header's DUP flag).
    case v31 = 3
    /// MQTT 3.1.1 (protocol level 4).
    case v311 = 4
    /// MQTT 5.0 (protocol level 5).
    case v5 = 5

    /// The version a CONNECT's protocol name and level announce; nil for any other pair
    /// ("MQTT" with level 3 or "MQIsdp" with level 4 included).
    public init?(protocolName: String, level: UInt8) {
        switch (protocolName, level) {
        case ("MQIsdp", 3): self = .v31
        case ("MQTT", 4): self = .v311
        case ("MQTT", 5): self = .v5
        default: return nil
        }
    }

    /// The protocol name CONNECT carries: "MQIsdp" for 3.1, "MQTT" after it.
    public var protocolName: String {
        self == .v31 ? "MQIsdp" : "MQTT"
    }
}

extension MQTTProtocolVersion: CustomStringConvertible {
    /// "3.1", "3.1.1" or "5.0".
    public var description: String {
        switch self {
        case .v31: return "3.1"
        case .v311: return "3.1.1"
        case .v5: return "5.0"
        }
    }
}
