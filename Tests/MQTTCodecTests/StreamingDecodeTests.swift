import MQTTCodec
import NIOCore
import NIOTestUtils
import Testing
import WharfCore

@Suite struct StreamingDecodeTests {
    /// Golden and random packets for `version`, with their bytes.
    private func samples(_ version: MQTTProtocolVersion, random: Int) throws -> [([UInt8], MQTTPacket)] {
        var result = goldenCases.filter { $0.version == version }.map { ($0.bytes, $0.packet) }
        var generator = RandomPacketGenerator(seed: 7 + UInt64(version.rawValue), version: version)
        for _ in 0..<random {
            let packet = generator.packet()
            result.append((try encoded(packet, version), packet))
        }
        return result
    }

    @Test(arguments: MQTTProtocolVersion.allCases)
    func byteToMessageDecoderVerifier(_ version: MQTTProtocolVersion) throws {
        // The verifier pushes every byte through a channel pipeline: keep packets small.
        let pairs = try samples(version, random: 80).filter { $0.0.count < 2_000 }.map { (buffer($0.0), [$0.1]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            MQTTPacketDecoder(version: version)
        }
    }

    @Test(arguments: MQTTProtocolVersion.allCases)
    func oneByteAtATime(_ version: MQTTProtocolVersion) throws {
        for (bytes, expected) in try samples(version, random: 150) {
            var input = ByteBuffer()
            var decoded: [MQTTPacket] = []
            for (index, byte) in bytes.enumerated() {
                input.writeInteger(byte)
                let before = input.readerIndex
                if let packet = try MQTTPacket.decode(from: &input, version: version, maxPacketSize: 1 << 24) {
                    #expect(index == bytes.count - 1, "decoded early: \(expected.packetType)")
                    decoded.append(packet)
                } else {
                    #expect(input.readerIndex == before, "consumed bytes without a packet")
                }
            }
            #expect(decoded == [expected])
            #expect(input.readableBytes == 0)
        }
    }

    @Test func concatenatedStreamInRandomChunks() throws {
        var rng = SeededGenerator(seed: 99)
        let all = try samples(.v5, random: 300)
        let stream = all.flatMap(\.0)
        var input = ByteBuffer()
        var decoded: [MQTTPacket] = []
        var offset = 0
        while offset < stream.count {
            let chunk = min(Int.random(in: 1...700, using: &rng), stream.count - offset)
            input.writeBytes(stream[offset..<offset + chunk])
            offset += chunk
            while let packet = try MQTTPacket.decode(from: &input, version: .v5, maxPacketSize: 1 << 24) {
                decoded.append(packet)
            }
            input.discardReadBytes()
        }
        #expect(decoded == all.map(\.1))
    }

    @Test func decoderLearnsTheVersionFromConnect() throws {
        for version in MQTTProtocolVersion.allCases {
            var decoder = MQTTPacketDecoder()
            var input = ByteBuffer()
            let connect = MQTTPacket.connect(ConnectPacket(protocolVersion: version, clientIdentifier: "c"))
            try connect.encode(into: &input, version: version)
            let publish = MQTTPacket.publish(
                PublishPacket(topic: "t", payload: buffer("p"), qos: .atLeastOnce, packetIdentifier: 3))
            try publish.encode(into: &input, version: version)
            #expect(try decoder.decodePacket(from: &input) == connect)
            #expect(decoder.version == version)
            #expect(try decoder.decodePacket(from: &input) == publish)
            #expect(try decoder.decodePacket(from: &input) == nil)
        }
    }

    @Test func decoderLearnsTheVersionFromConnAckOrAuth() throws {
        var v311 = MQTTPacketDecoder()
        var input = buffer([0x20, 0x02, 0x00, 0x00])
        #expect(try v311.decodePacket(from: &input) == .connAck(ConnAckPacket()))
        #expect(v311.version == .v311)

        var v5 = MQTTPacketDecoder()
        input = buffer([0x20, 0x03, 0x00, 0x00, 0x00])
        #expect(try v5.decodePacket(from: &input) == .connAck(ConnAckPacket()))
        #expect(v5.version == .v5)

        var auth = MQTTPacketDecoder()
        input = buffer([0xF0, 0x00])
        #expect(try auth.decodePacket(from: &input) == .auth(AuthPacket()))
        #expect(auth.version == .v5)

        var partial = MQTTPacketDecoder()
        input = buffer([0x20])
        #expect(try partial.decodePacket(from: &input) == nil)
        #expect(partial.version == nil)
    }

    @Test func decoderWithoutVersionRefusesOtherFirstPackets() {
        var decoder = MQTTPacketDecoder()
        var input = buffer([0xC0, 0x00])
        #expect(throws: MQTTDecodeError.self) { try decoder.decodePacket(from: &input) }
    }

    @Test func decoderHonoursItsMaximumPacketSize() {
        var decoder = MQTTPacketDecoder(version: .v5, maxPacketSize: 100)
        var input = buffer([0x30, 0x63])
        #expect(
            throws: MQTTDecodeError(
                reasonCode: .packetTooLarge, message: "PUBLISH of 101 bytes exceeds the maximum packet size 100")
        ) {
            try decoder.decodePacket(from: &input)
        }
    }

    @Test func encoderWritesThePacket() throws {
        for golden in goldenCases {
            let encoder = MQTTPacketEncoder(version: golden.version)
            var out = ByteBuffer()
            try encoder.encode(data: golden.packet, out: &out)
            #expect(Array(out.readableBytesView) == golden.bytes, "\(golden.name)")
        }
    }
}
