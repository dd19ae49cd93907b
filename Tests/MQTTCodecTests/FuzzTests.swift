import MQTTCodec
import NIOCore
import Testing

/// Decodes everything in `bytes`; returns the packets and whether decoding stopped with an error.
/// Checks that each decoded packet consumed exactly the size its fixed header declared.
private func decodeAll(
    _ bytes: [UInt8],
    _ version: MQTTProtocolVersion,
    maxPacketSize: Int = 1 << 20
) -> (packets: [MQTTPacket], failed: Bool) {
    var input = buffer(bytes)
    var packets: [MQTTPacket] = []
    while true {
        let before = input.readerIndex
        let declared = declaredSize(input)
        do {
            guard let packet = try MQTTPacket.decode(from: &input, version: version, maxPacketSize: maxPacketSize)
            else {
                #expect(input.readerIndex == before)
                return (packets, false)
            }
            #expect(input.readerIndex - before == declared)
            packets.append(packet)
        } catch {
            #expect(input.readerIndex == before)
            return (packets, true)
        }
    }
}

/// The whole-packet size the fixed header at the reader index declares, if readable.
private func declaredSize(_ buffer: ByteBuffer) -> Int? {
    var length = 0
    for index in 1...4 {
        guard let byte = buffer.getInteger(at: buffer.readerIndex + index, as: UInt8.self) else { return nil }
        length |= Int(byte & 0x7F) << (7 * (index - 1))
        if byte & 0x80 == 0 { return 1 + index + length }
    }
    return nil
}

@Suite struct FuzzTests {
    @Test(arguments: MQTTProtocolVersion.allCases)
    func randomBytesNeverTrap(_ version: MQTTProtocolVersion) {
        var rng = SeededGenerator(seed: 0xF022 + UInt64(version.rawValue))
        var decodedAny = 0
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...48, using: &rng)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            // Bias towards plausible headers: a valid type and a small remaining length.
            if !bytes.isEmpty && Bool.random(using: &rng) {
                bytes[0] = UInt8.random(in: 1...15, using: &rng) << 4 | [0, 2].randomElement(using: &rng)!
                if bytes.count > 1 { bytes[1] = UInt8(bytes.count - 2) }
            }
            let maxPacketSize = [8, 64, 1 << 20].randomElement(using: &rng)!
            decodedAny += decodeAll(bytes, version, maxPacketSize: maxPacketSize).packets.count
        }
        #expect(decodedAny > 0)
    }

    @Test(arguments: MQTTProtocolVersion.allCases)
    func mutatedPacketsNeverTrapAndDecodeIdempotently(_ version: MQTTProtocolVersion) throws {
        var rng = SeededGenerator(seed: 0x0BAD + UInt64(version.rawValue))
        var generator = RandomPacketGenerator(seed: 0xC0DE + UInt64(version.rawValue), version: version)
        var originals = goldenCases.filter { $0.version == version }.map(\.bytes)
        for _ in 0..<300 {
            let packet = generator.packet()
            guard packet.encodedSize(version: version) < 4_000 else { continue }
            originals.append(try encoded(packet, version))
        }
        var accepted = 0
        var refused = 0
        for _ in 0..<25_000 {
            var bytes = originals.randomElement(using: &rng)!
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                mutate(&bytes, using: &rng)
            }
            // Trailing bytes stand for whatever follows on the connection.
            let (packets, failed) = decodeAll(bytes + [0xC0], version)
            if failed { refused += 1 } else { accepted += 1 }
            for packet in packets {
                // Whatever is accepted must be representable, and decode the same again.
                let again = try encoded(packet, version)
                let reparsed = try decodeOne(again, packet.packetType == .connect ? .v5 : version)
                #expect(reparsed == packet)
            }
        }
        #expect(accepted > 0)
        #expect(refused > 0)
    }

    private func mutate(_ bytes: inout [UInt8], using rng: inout SeededGenerator) {
        guard !bytes.isEmpty else {
            bytes.append(UInt8.random(in: 0...255, using: &rng))
            return
        }
        let index = Int.random(in: 0..<bytes.count, using: &rng)
        switch Int.random(in: 0...5, using: &rng) {
        case 0: bytes[index] ^= 1 << UInt8.random(in: 0...7, using: &rng)
        case 1: bytes[index] = UInt8.random(in: 0...255, using: &rng)
        case 2: bytes.removeSubrange(index...)
        case 3: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: index)
        case 4: bytes.remove(at: index)
        default:
            // Keep the remaining length consistent with a changed body so the body parser is reached.
            bytes[index] = UInt8.random(in: 0...255, using: &rng)
            if bytes.count > 1 && bytes.count < 129 { bytes[1] = UInt8(bytes.count - 2) }
        }
    }
}
