/// MQTT quality of service: how hard the sender tries to deliver a message.
public enum QoS: UInt8, Sendable, Hashable, Comparable, CaseIterable, Codable {
    /// At most once: fire and forget.
    case atMostOnce = 0
    /// At least once: acknowledged with PUBACK, may be duplicated.
    case atLeastOnce = 1
    /// Exactly once: four-way handshake PUBREC/PUBREL/PUBCOMP.
    case exactlyOnce = 2

    public static func < (lhs: QoS, rhs: QoS) -> Bool { lhs.rawValue < rhs.rawValue }
}
