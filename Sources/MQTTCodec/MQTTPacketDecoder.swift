public import NIOCore

/// A `ByteToMessageDecoder` that turns bytes into `MQTTPacket`s.
///
/// With `version` nil the decoder learns the version from the first packet that reveals it: a
/// CONNECT carries its level (server side); a CONNACK of Remaining Length 2 is 3.1.1 and a longer
/// one is 5.0, and AUTH exists only in 5.0 (client side). Any other packet before that is a
/// protocol error, since a connection starts with CONNECT, then CONNACK or AUTH.
public struct MQTTPacketDecoder: ByteToMessageDecoder {
    /// Decoded packets.
    public typealias InboundOut = MQTTPacket

    /// The negotiated version, or nil until it is learned.
    public var version: MQTTProtocolVersion?
    /// The largest whole packet accepted; larger ones throw `packetTooLarge`.
    public var maxPacketSize: Int

    /// Creates a decoder.
    public init(version: MQTTProtocolVersion? = nil, maxPacketSize: Int = MQTTPacket.maximumSize) {
        self.version = version
        self.maxPacketSize = maxPacketSize
    }

    /// Decodes one packet from `buffer`, applying the version rules above.
    public mutating func decodePacket(from buffer: inout ByteBuffer) throws(MQTTDecodeError) -> MQTTPacket? {
        if let version {
            return try MQTTPacket.decode(from: &buffer, version: version, maxPacketSize: maxPacketSize)
        }
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        let learned: MQTTProtocolVersion
        switch first >> 4 {
        case MQTTPacketType.connect.rawValue:
            // CONNECT ignores the version passed in; it is learned from the decoded packet below.
            learned = .v5
        case MQTTPacketType.connAck.rawValue:
            guard let lengthByte = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self) else { return nil }
            learned = lengthByte == 2 ? .v311 : .v5
        case MQTTPacketType.auth.rawValue:
            learned = .v5
        default:
            throw .protocolError("the first packet must be CONNECT, CONNACK or AUTH")
        }
        guard let packet = try MQTTPacket.decode(from: &buffer, version: learned, maxPacketSize: maxPacketSize) else {
            return nil
        }
        if case .connect(let connect) = packet {
            version = connect.protocolVersion
        } else {
            version = learned
        }
        return packet
    }

    /// Forwards every whole packet in `buffer`.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let packet = try decodePacket(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(packet))
        return .continue
    }

    /// Forwards what is left at end of input; an incomplete packet is dropped with the connection.
    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}

/// A `MessageToByteEncoder` that writes `MQTTPacket`s.
public struct MQTTPacketEncoder: MessageToByteEncoder {
    /// Packets to encode.
    public typealias OutboundIn = MQTTPacket

    /// The version packets are written in (CONNECT always uses its own).
    public var version: MQTTProtocolVersion

    /// Creates an encoder.
    public init(version: MQTTProtocolVersion = .v5) {
        self.version = version
    }

    /// Writes `data` into `out`.
    public func encode(data: MQTTPacket, out: inout ByteBuffer) throws {
        try data.encode(into: &out, version: version)
    }
}
