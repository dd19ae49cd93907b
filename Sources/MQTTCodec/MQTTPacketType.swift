/// The control packet type in the high nibble of a fixed header's first byte.
public enum MQTTPacketType: UInt8, Sendable, Hashable, CaseIterable {
    /// Client request to connect.
    case connect = 1
    /// Connect acknowledgment.
    case connAck = 2
    /// Application message.
    case publish = 3
    /// QoS 1 acknowledgment.
    case pubAck = 4
    /// QoS 2 delivery, part 1.
    case pubRec = 5
    /// QoS 2 delivery, part 2.
    case pubRel = 6
    /// QoS 2 delivery, part 3.
    case pubComp = 7
    /// Subscribe request.
    case subscribe = 8
    /// Subscribe acknowledgment.
    case subAck = 9
    /// Unsubscribe request.
    case unsubscribe = 10
    /// Unsubscribe acknowledgment.
    case unsubAck = 11
    /// Keep-alive request.
    case pingReq = 12
    /// Keep-alive response.
    case pingResp = 13
    /// Disconnect notification.
    case disconnect = 14
    /// Authentication exchange (MQTT 5 only).
    case auth = 15

    /// The flags the fixed header must carry for every type but PUBLISH, whose flags carry data.
    var requiredFlags: UInt8 {
        switch self {
        case .pubRel, .subscribe, .unsubscribe: return 0b0010
        default: return 0
        }
    }

    /// Whether a fixed header of this type (PUBLISH aside) may carry `flags` in `version`.
    ///
    /// MQTT 3.1 sets DUP (bit 3) on a PUBREL, SUBSCRIBE or UNSUBSCRIBE it sends again; 3.1.1
    /// fixed these flags, so only 3.1 accepts the DUP bit there.
    func acceptsFlags(_ flags: UInt8, version: MQTTProtocolVersion) -> Bool {
        flags == requiredFlags || (version == .v31 && requiredFlags != 0 && flags == requiredFlags | 0b1000)
    }
}

extension MQTTPacketType: CustomStringConvertible {
    /// The packet's name as the specifications write it, e.g. "PUBACK".
    public var description: String {
        switch self {
        case .connect: return "CONNECT"
        case .connAck: return "CONNACK"
        case .publish: return "PUBLISH"
        case .pubAck: return "PUBACK"
        case .pubRec: return "PUBREC"
        case .pubRel: return "PUBREL"
        case .pubComp: return "PUBCOMP"
        case .subscribe: return "SUBSCRIBE"
        case .subAck: return "SUBACK"
        case .unsubscribe: return "UNSUBSCRIBE"
        case .unsubAck: return "UNSUBACK"
        case .pingReq: return "PINGREQ"
        case .pingResp: return "PINGRESP"
        case .disconnect: return "DISCONNECT"
        case .auth: return "AUTH"
        }
    }
}
