import MQTTCodec
import NIOCore
import Testing

/// A length-prefixed UTF-8 string field, for writing golden bytes readably.
func s(_ string: String) -> [UInt8] {
    let bytes = Array(string.utf8)
    return [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
}

/// A length-prefixed binary field.
func bin(_ bytes: [UInt8]) -> [UInt8] {
    [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
}

/// The ASCII/UTF-8 bytes of `string`, without prefix.
func utf8(_ string: String) -> [UInt8] { Array(string.utf8) }

/// A buffer holding `bytes`.
func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

/// A buffer holding the UTF-8 of `string`.
func buffer(_ string: String) -> ByteBuffer { ByteBuffer(string: string) }

/// Decodes exactly one whole packet from `bytes`, expecting every byte to be consumed.
func decodeOne(
    _ bytes: [UInt8],
    _ version: MQTTProtocolVersion,
    maxPacketSize: Int = MQTTPacket.maximumSize
) throws -> MQTTPacket? {
    var input = buffer(bytes)
    let packet = try MQTTPacket.decode(from: &input, version: version, maxPacketSize: maxPacketSize)
    if packet != nil { #expect(input.readableBytes == 0) }
    return packet
}

/// The bytes `encode` writes.
func encoded(_ packet: MQTTPacket, _ version: MQTTProtocolVersion) throws -> [UInt8] {
    var out = ByteBuffer()
    try packet.encode(into: &out, version: version)
    return Array(out.readableBytesView)
}

/// The error decoding `bytes` throws, or nil when it does not throw.
func decodeError(
    _ bytes: [UInt8],
    _ version: MQTTProtocolVersion,
    maxPacketSize: Int = MQTTPacket.maximumSize
) -> MQTTDecodeError? {
    var input = buffer(bytes)
    do {
        _ = try MQTTPacket.decode(from: &input, version: version, maxPacketSize: maxPacketSize)
        return nil
    } catch {
        return error
    }
}

/// A small, fast, seedable generator (SplitMix64) so random tests replay exactly.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
