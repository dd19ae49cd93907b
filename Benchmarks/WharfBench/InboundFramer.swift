import MQTTCodec
import NIOCore

/// Splits a connection's bytes into MQTT packets with the codec, without a cumulation buffer.
///
/// Packets are decoded straight from each read; only a packet that straddles two reads is
/// copied, and only its own bytes, so that a busy connection never re-copies whole reads.
struct InboundFramer {
    /// The start of a packet that the last read cut off.
    private var partial: ByteBuffer?
    /// The read being decoded.
    private var current = ByteBuffer()
    /// The largest packet accepted.
    private let maxPacketSize: Int

    /// Creates a framer that rejects packets over `maxPacketSize` bytes.
    init(maxPacketSize: Int = MQTTPacket.maximumSize) {
        self.maxPacketSize = maxPacketSize
    }

    /// Starts decoding a new read; the previous one must have been drained by `next`.
    mutating func append(_ incoming: ByteBuffer) {
        current = incoming
    }

    /// The next whole packet, or nil when the read is used up.
    @inline(__always)
    mutating func next(version: MQTTProtocolVersion) throws(MQTTDecodeError) -> MQTTPacket? {
        try nextPacket(version: version, keepingBytes: false)?.packet
    }

    /// The next whole packet together with its encoded bytes (a slice, not a copy).
    mutating func nextWithBytes(version: MQTTProtocolVersion) throws(MQTTDecodeError) -> (MQTTPacket, ByteBuffer)? {
        guard let (packet, bytes) = try nextPacket(version: version, keepingBytes: true), let bytes else { return nil }
        return (packet, bytes)
    }

    @inline(__always)
    private mutating func nextPacket(
        version: MQTTProtocolVersion,
        keepingBytes: Bool
    ) throws(MQTTDecodeError) -> (packet: MQTTPacket, bytes: ByteBuffer?)? {
        if var pending = partial {
            partial = nil
            complete(&pending)
            let start = pending.readerIndex
            guard let packet = try MQTTPacket.decode(from: &pending, version: version, maxPacketSize: maxPacketSize)
            else {
                partial = pending
                return nil
            }
            return (packet, keepingBytes ? Self.bytes(of: &pending, from: start) : nil)
        }
        let start = current.readerIndex
        guard let packet = try MQTTPacket.decode(from: &current, version: version, maxPacketSize: maxPacketSize) else {
            if current.readableBytes > 0 {
                var copy = ByteBuffer()
                copy.reserveCapacity(max(current.readableBytes, 1024))
                copy.writeImmutableBuffer(current)
                current.moveReaderIndex(forwardBy: current.readableBytes)
                partial = copy
            }
            return nil
        }
        return (packet, keepingBytes ? Self.bytes(of: &current, from: start) : nil)
    }

    /// The bytes from `start` to the reader index, which decoding has just moved past them.
    private static func bytes(of buffer: inout ByteBuffer, from start: Int) -> ByteBuffer? {
        // Slices can only be taken of readable bytes: step back over the packet and read it again.
        let length = buffer.readerIndex - start
        buffer.moveReaderIndex(to: start)
        return buffer.readSlice(length: length)
    }

    /// Moves bytes from the current read into `pending` until it holds one whole packet or the read is empty.
    private mutating func complete(_ pending: inout ByteBuffer) {
        while current.readableBytes > 0 {
            guard let total = Self.packetLength(pending) else {
                if let byte = current.readInteger(as: UInt8.self) { pending.writeInteger(byte) }
                continue
            }
            let needed = total - pending.readableBytes
            guard needed > 0, let chunk = current.readSlice(length: min(needed, current.readableBytes)) else { return }
            pending.writeImmutableBuffer(chunk)
        }
    }

    /// The whole size of the packet `buffer` starts with, once its fixed header is complete.
    ///
    /// A header the codec will reject counts as complete, so that decoding reports the error.
    private static func packetLength(_ buffer: ByteBuffer) -> Int? {
        var value = 0
        var index = 1
        while index < 5 {
            guard let byte = buffer.getInteger(at: buffer.readerIndex + index, as: UInt8.self) else { return nil }
            value |= Int(byte & 0x7F) << (7 * (index - 1))
            if byte & 0x80 == 0 { return index + 1 + value }
            index += 1
        }
        return buffer.readableBytes
    }
}
