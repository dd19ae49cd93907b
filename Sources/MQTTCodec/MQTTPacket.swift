/// Any MQTT control packet, as decoded from or encoded to the wire.
public enum MQTTPacket: Sendable, Hashable {
    /// CONNECT; boxed because it is the largest and rarest payload, which keeps every other case small.
    indirect case connect(ConnectPacket)
    /// CONNACK.
    case connAck(ConnAckPacket)
    /// PUBLISH.
    case publish(PublishPacket)
    /// PUBACK.
    case pubAck(PubAckPacket)
    /// PUBREC.
    case pubRec(PubAckPacket)
    /// PUBREL.
    case pubRel(PubAckPacket)
    /// PUBCOMP.
    case pubComp(PubAckPacket)
    /// SUBSCRIBE.
    case subscribe(SubscribePacket)
    /// SUBACK.
    case subAck(SubAckPacket)
    /// UNSUBSCRIBE.
    case unsubscribe(UnsubscribePacket)
    /// UNSUBACK.
    case unsubAck(UnsubAckPacket)
    /// PINGREQ.
    case pingReq
    /// PINGRESP.
    case pingResp
    /// DISCONNECT.
    case disconnect(DisconnectPacket)
    /// AUTH (MQTT 5 only).
    case auth(AuthPacket)

    /// The largest Remaining Length the wire format can express.
    public static let maximumRemainingLength = 268_435_455
    /// The largest whole packet the wire format can express (fixed header included).
    public static let maximumSize = 268_435_460

    /// The control packet type.
    public var packetType: MQTTPacketType {
        switch self {
        case .connect: return .connect
        case .connAck: return .connAck
        case .publish: return .publish
        case .pubAck: return .pubAck
        case .pubRec: return .pubRec
        case .pubRel: return .pubRel
        case .pubComp: return .pubComp
        case .subscribe: return .subscribe
        case .subAck: return .subAck
        case .unsubscribe: return .unsubscribe
        case .unsubAck: return .unsubAck
        case .pingReq: return .pingReq
        case .pingResp: return .pingResp
        case .disconnect: return .disconnect
        case .auth: return .auth
        }
    }
}
