import MQTTCodec
import NIOCore
import PropertyBased
import Testing

@Suite struct RoundTripTests {
    @Test(arguments: MQTTProtocolVersion.allCases)
    func randomPacketsSurviveEncodeThenDecode(_ version: MQTTProtocolVersion) throws {
        var generator = RandomPacketGenerator(seed: 0x5EED_0000 + UInt64(version.rawValue), version: version)
        for _ in 0..<3_000 {
            let packet = generator.packet()
            let bytes = try encoded(packet, version)
            #expect(bytes.count == packet.encodedSize(version: version), "\(packet.packetType)")
            let decoded = try decodeOne(bytes, version)
            #expect(decoded == packet)
            if let decoded {
                #expect(try encoded(decoded, version) == bytes)
            }
        }
    }

    @Test(arguments: MQTTProtocolVersion.allCases, MQTTPacketType.allCases)
    func everyPacketTypeRoundTrips(_ version: MQTTProtocolVersion, _ type: MQTTPacketType) throws {
        guard version == .v5 || type != .auth else { return }
        var generator = RandomPacketGenerator(
            seed: UInt64(type.rawValue) << 8 | UInt64(version.rawValue), version: version)
        for _ in 0..<200 {
            let packet = generator.packet(of: type)
            let bytes = try encoded(packet, version)
            #expect(try decodeOne(bytes, version) == packet)
        }
    }

    @Test func connectIsWrittenAndReadInItsOwnVersion() throws {
        for version in MQTTProtocolVersion.allCases {
            var generator = RandomPacketGenerator(seed: 42, version: version)
            for _ in 0..<100 {
                let packet = MQTTPacket.connect(generator.connect())
                let other: MQTTProtocolVersion = version == .v5 ? .v311 : .v5
                let bytes = try encoded(packet, other)
                #expect(bytes == (try encoded(packet, version)))
                #expect(try decodeOne(bytes, other) == packet)
            }
        }
    }

    @Test func remainingLengthRoundTripsAtEveryWidth() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...300_000)) { size in
            let packet = MQTTPacket.publish(
                PublishPacket(topic: "t", payload: ByteBuffer(repeating: 0xAB, count: size))
            )
            let bytes = try encoded(packet, .v311)
            #expect(bytes.count == packet.encodedSize(version: .v311))
            #expect(try decodeOne(bytes, .v311) == packet)
        }
    }

    @Test func remainingLengthBoundaries() throws {
        // Body sizes at which the Remaining Length grows a byte: 127/128, 16383/16384, 2097151/2097152.
        for bodySize in [127, 128, 16_383, 16_384, 2_097_151, 2_097_152] {
            let packet = MQTTPacket.publish(
                PublishPacket(topic: "t", payload: ByteBuffer(repeating: 1, count: bodySize - 3))
            )
            let bytes = try encoded(packet, .v311)
            let lengthBytes = bytes.count - 1 - bodySize
            #expect(lengthBytes == (bodySize < 128 ? 1 : bodySize < 16_384 ? 2 : bodySize < 2_097_152 ? 3 : 4))
            #expect(try decodeOne(bytes, .v311) == packet)
        }
    }

    @Test func subscriptionIdentifiersRoundTripAcrossTheirRange() async {
        await propertyCheck(count: 300, input: Gen.uint32(in: 1...268_435_455)) { identifier in
            let packet = MQTTPacket.subscribe(
                SubscribePacket(
                    packetIdentifier: 1,
                    subscriptions: [TopicSubscription(topicFilter: "a/#")],
                    properties: MQTTProperties(subscriptionIdentifiers: [identifier])
                )
            )
            let decoded = try decodeOne(try encoded(packet, .v5), .v5)
            #expect(decoded == packet)
        }
    }

    @Test func unicodeStringsRoundTrip() async {
        // Every scalar but U+0000; surrogate code points are not scalars and fold to "?".
        let scalars = Gen.uint32(in: 1...0x10FFFF).map { Unicode.Scalar($0) ?? "?" }.array(of: 0...30)
        await propertyCheck(count: 300, input: scalars) { scalars in
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            let text = String(view)
            let packet = MQTTPacket.unsubscribe(UnsubscribePacket(packetIdentifier: 9, topicFilters: [text]))
            let decoded = try decodeOne(try encoded(packet, .v311), .v311)
            #expect(decoded == packet)
        }
    }
}
