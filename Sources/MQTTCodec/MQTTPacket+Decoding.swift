public import NIOCore

extension MQTTPacket {
    /// Decodes one packet if `buffer` holds a whole one; returns nil (buffer untouched) when more bytes are needed.
    ///
    /// `version` is the negotiated version; CONNECT is decoded whatever `version` says (it carries its
    /// own level). A packet larger than `maxPacketSize` (whole-packet size, as MQTT 5 Maximum Packet
    /// Size counts it) throws `packetTooLarge` as soon as its Remaining Length is known, without
    /// waiting for the body. Invalid first bytes (reserved type, wrong flags) throw at once too.
    /// Decoding never reads past the packet's Remaining Length, and a PUBLISH payload is a slice of
    /// `buffer` (no copy). After a throw, the connection must be closed: `buffer` is left as it was.
    public static func decode(
        from buffer: inout ByteBuffer,
        version: MQTTProtocolVersion,
        maxPacketSize: Int
    ) throws(MQTTDecodeError) -> MQTTPacket? {
        let start = buffer.readerIndex
        // The whole fixed header in one buffer access (each access costs an exclusivity check).
        // headerLength: 0 = more bytes needed, -1 = not minimal, -2 = over 4 bytes, -3 = no byte at all.
        let (first, remainingLength, headerLength) = buffer.withUnsafeReadableBytes { raw -> (UInt8, Int, Int) in
            guard let first = raw.first else { return (0, 0, -3) }
            var value = 0
            var index = 1
            while index < raw.count && index < 5 {
                let byte = raw[index]
                value |= Int(byte & 0x7F) << (7 * (index - 1))
                if byte & 0x80 == 0 {
                    // A final zero after continuation bytes marks an encoding longer than needed.
                    return byte == 0 && index > 1 ? (first, 0, -1) : (first, value, index + 1)
                }
                index += 1
            }
            return (first, 0, index == 5 ? -2 : 0)
        }
        if headerLength == -3 { return nil }
        guard let type = MQTTPacketType(rawValue: first >> 4) else {
            throw .malformed("packet type 0 is reserved")
        }
        let flags = first & 0x0F
        if type != .publish && !type.acceptsFlags(flags, version: version) {
            throw .malformed("\(type) fixed header flags are \(flags), must be \(type.requiredFlags)")
        }
        if type == .auth && version != .v5 { throw .malformed("packet type 15 is reserved in MQTT \(version)") }
        switch headerLength {
        case 0: return nil
        case -1: throw .malformed("remaining length is not minimally encoded")
        case -2: throw .malformed("remaining length is longer than 4 bytes")
        default: break
        }
        let packetSize = headerLength + remainingLength
        if packetSize > maxPacketSize {
            throw MQTTDecodeError(
                reasonCode: .packetTooLarge,
                message: "\(type) of \(packetSize) bytes exceeds the maximum packet size \(maxPacketSize)"
            )
        }
        guard var body = buffer.getSlice(at: start + headerLength, length: remainingLength) else { return nil }

        let packet = try decodeBody(type: type, flags: flags, body: &body, version: version)
        if body.readableBytes > 0 {
            throw .malformed("\(type) has \(body.readableBytes) bytes after its content")
        }
        buffer.moveReaderIndex(forwardBy: packetSize)
        return packet
    }

    private static func decodeBody(
        type: MQTTPacketType,
        flags: UInt8,
        body: inout ByteBuffer,
        version: MQTTProtocolVersion
    ) throws(MQTTDecodeError) -> MQTTPacket {
        switch type {
        case .publish: return .publish(try PublishPacket.decode(flags: flags, body: &body, version: version))
        case .pubAck: return .pubAck(try PubAckPacket.decode(type: type, body: &body, version: version))
        case .pubRec: return .pubRec(try PubAckPacket.decode(type: type, body: &body, version: version))
        case .pubRel: return .pubRel(try PubAckPacket.decode(type: type, body: &body, version: version))
        case .pubComp: return .pubComp(try PubAckPacket.decode(type: type, body: &body, version: version))
        case .connect: return .connect(try ConnectPacket.decode(body: &body))
        case .connAck: return .connAck(try ConnAckPacket.decode(body: &body, version: version))
        case .subscribe: return .subscribe(try SubscribePacket.decode(body: &body, version: version))
        case .subAck: return .subAck(try SubAckPacket.decode(body: &body, version: version))
        case .unsubscribe: return .unsubscribe(try UnsubscribePacket.decode(body: &body, version: version))
        case .unsubAck: return .unsubAck(try UnsubAckPacket.decode(body: &body, version: version))
        case .pingReq: return .pingReq
        case .pingResp: return .pingResp
        case .disconnect: return .disconnect(try DisconnectPacket.decode(body: &body, version: version))
        case .auth: return .auth(try AuthPacket.decode(body: &body))
        }
    }
}
