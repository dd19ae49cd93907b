/// The MQTT protocol level carried in CONNECT and negotiated for the rest of a connection.
public enum MQTTProtocolVersion: UInt8, Sendable, Hashable, CaseIterable {
    /// MQTT 3.1.1 (protocol level 4).
    case v311 = 4
    /// MQTT 5.0 (protocol level 5).
    case v5 = 5
}

extension MQTTProtocolVersion: CustomStringConvertible {
    /// "3.1.1" or "5.0".
    public var description: String {
        switch self {
        case .v311: return "3.1.1"
        case .v5: return "5.0"
        }
    }
}
