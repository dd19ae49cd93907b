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
        guard let first = buffer.getInteger(at: start, as: UInt8.self) else { return nil }
        guard let type = MQTTPacketType(rawValue: first >> 4) else {
            throw .malformed("packet type 0 is reserved")
        }
        let flags = first & 0x0F
        if type != .publish && flags != type.requiredFlags {
            throw .malformed("\(type) fixed header flags are \(flags), must be \(type.requiredFlags)")
        }
        if type == .auth && version == .v311 { throw .malformed("packet type 15 is reserved in MQTT 3.1.1") }

        var remainingLength = 0
        var headerLength = 1
        while true {
            guard let byte = buffer.getInteger(at: start + headerLength, as: UInt8.self) else { return nil }
            remainingLength |= Int(byte & 0x7F) << (7 * (headerLength - 1))
            headerLength += 1
            if byte & 0x80 == 0 {
                if byte == 0 && headerLength > 2 { throw .malformed("remaining length is not minimally encoded") }
                break
            }
            if headerLength == 5 { throw .malformed("remaining length is longer than 4 bytes") }
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
