extension MQTTPacket {
    /// This packet as it may be sent to a peer that accepts packets of at most `maximumSize`
    /// bytes (its MQTT 5 Maximum Packet Size, fixed header included), or `nil` when it cannot be.
    ///
    /// MQTT 5 lets a sender leave out the Reason String, then the User Properties, of a CONNACK,
    /// an acknowledgement, DISCONNECT or AUTH where that makes it fit (§3.2.2.3.9, §3.2.2.3.10
    /// and the same rule for each of those packets); nothing else is ever changed, so a PUBLISH,
    /// or a SUBACK with more reason codes than fit, is `nil` when too large.
    public func fitted(toMaximumSize maximumSize: Int, version: MQTTProtocolVersion) -> MQTTPacket? {
        if encodedSize(version: version) <= maximumSize { return self }
        guard version == .v5, let properties = diagnosticProperties,
            properties.reasonString != nil || !properties.userProperties.isEmpty
        else { return nil }
        var packet = self
        var trimmed = properties
        if trimmed.reasonString != nil {
            trimmed.reasonString = nil
            packet.diagnosticProperties = trimmed
            if packet.encodedSize(version: version) <= maximumSize { return packet }
        }
        trimmed.userProperties = []
        packet.diagnosticProperties = trimmed
        return packet.encodedSize(version: version) <= maximumSize ? packet : nil
    }

    /// The properties of the packet types that may carry a Reason String; `nil` for the others,
    /// where setting it changes nothing.
    private var diagnosticProperties: MQTTProperties? {
        get {
            switch self {
            case .connAck(let packet): packet.properties
            case .pubAck(let packet), .pubRec(let packet), .pubRel(let packet), .pubComp(let packet):
                packet.properties
            case .subAck(let packet): packet.properties
            case .unsubAck(let packet): packet.properties
            case .disconnect(let packet): packet.properties
            case .auth(let packet): packet.properties
            case .connect, .publish, .subscribe, .unsubscribe, .pingReq, .pingResp: nil
            }
        }
        set {
            guard let newValue else { return }
            switch self {
            case .connAck(var packet):
                packet.properties = newValue
                self = .connAck(packet)
            case .pubAck(var packet):
                packet.properties = newValue
                self = .pubAck(packet)
            case .pubRec(var packet):
                packet.properties = newValue
                self = .pubRec(packet)
            case .pubRel(var packet):
                packet.properties = newValue
                self = .pubRel(packet)
            case .pubComp(var packet):
                packet.properties = newValue
                self = .pubComp(packet)
            case .subAck(var packet):
                packet.properties = newValue
                self = .subAck(packet)
            case .unsubAck(var packet):
                packet.properties = newValue
                self = .unsubAck(packet)
            case .disconnect(var packet):
                packet.properties = newValue
                self = .disconnect(packet)
            case .auth(var packet):
                packet.properties = newValue
                self = .auth(packet)
            case .connect, .publish, .subscribe, .unsubscribe, .pingReq, .pingResp:
                break
            }
        }
    }
}
