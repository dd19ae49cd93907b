import FuzzSupport
import MQTTCodec
import NIOCore

/// Decodes the stream that follows the steering bytes, once whole and once in chunks.
///
/// Steering: byte 0 picks the version (0 learned from the first packet, 1 MQTT 3.1.1, 2 MQTT 5.0,
/// 3 MQTT 3.1)
/// and, in bit 2, a small maximum packet size taken from byte 1; byte 2 says how many chunk-size
/// bytes follow (0 to 7). Invariants: the chunked and the whole decode give the same packets and
/// both fail or neither does; every decoded packet encodes, and decodes back to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMQTTDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.take()
    let limitByte = input.take()
    let version: MQTTProtocolVersion? =
        switch mode & 0x03 {
        case 1: .v311
        case 2: .v5
        case 3: .v31
        default: nil
        }
    let maxPacketSize = mode & 0x04 != 0 ? Int(limitByte) + 2 : MQTTPacket.maximumSize
    let sizeCount = Int(input.take() & 0x07)
    let sizes = (0..<sizeCount).map { _ in input.take() }
    let stream = input.rest

    let whole = decodeAll(chunks: [stream], version: version, maxPacketSize: maxPacketSize)
    let chunked = decodeAll(
        chunks: FuzzInput.chunks(of: stream, sizes: sizes),
        version: version,
        maxPacketSize: maxPacketSize
    )
    if whole.packets != chunked.packets || whole.failed != chunked.failed {
        fuzzFailure("chunked decode differs: \(whole) vs \(chunked)")
    }
    for (packet, packetVersion) in zip(whole.packets, whole.versions) {
        checkRoundTrip(packet, version: packetVersion)
    }
    return 0
}

/// What a decoder made of a stream.
struct Decoded: CustomStringConvertible {
    var packets: [MQTTPacket] = []
    var versions: [MQTTProtocolVersion] = []
    var failed = false

    var description: String { "\(packets.count) packets, failed: \(failed)" }
}

/// Feeds `chunks` one after the other to one decoder, taking every whole packet after each.
func decodeAll(chunks: [ArraySlice<UInt8>], version: MQTTProtocolVersion?, maxPacketSize: Int) -> Decoded {
    var decoder = MQTTPacketDecoder(version: version, maxPacketSize: maxPacketSize)
    var buffer = ByteBuffer()
    var result = Decoded()
    for chunk in chunks {
        buffer.writeBytes(chunk)
        do {
            while let packet = try decoder.decodePacket(from: &buffer) {
                result.packets.append(packet)
                result.versions.append(decoder.version ?? .v5)
            }
        } catch {
            result.failed = true
            return result
        }
        buffer.discardReadBytes()
    }
    return result
}

/// A decoded packet must encode, and the encoding must decode to the same packet.
func checkRoundTrip(_ packet: MQTTPacket, version: MQTTProtocolVersion) {
    var encoded = ByteBuffer()
    do {
        try packet.encode(into: &encoded, version: version)
    } catch {
        fuzzFailure("decoded packet does not encode (\(error)): \(packet)")
    }
    if encoded.readableBytes != packet.encodedSize(version: version) {
        fuzzFailure("encodedSize \(packet.encodedSize(version: version)) != \(encoded.readableBytes): \(packet)")
    }
    do {
        let again = try MQTTPacket.decode(from: &encoded, version: version, maxPacketSize: MQTTPacket.maximumSize)
        if again != packet || encoded.readableBytes != 0 {
            fuzzFailure("re-decoded packet differs: \(packet) vs \(String(describing: again))")
        }
    } catch {
        fuzzFailure("re-encoded packet does not decode (\(error)): \(packet)")
    }
}

/// libFuzzer's driver around `fuzzMQTTDecoder`.
@main
enum FuzzMQTTDecoderMain {
    static func main() { runLibFuzzer(fuzzMQTTDecoder) }
}
