import MQTTCodec
import NIOCore
import Testing
import WharfCore

/// What MQTT 3.1 (protocol name "MQIsdp", level 3) changes on the wire, beyond the golden cases:
/// the name and level pairing, CONNACK's reserved first byte, SUBACK without failure codes, DUP
/// on resent PUBREL/SUBSCRIBE/UNSUBSCRIBE, and the CONNECT flags 3.1 leaves loose.
@Suite struct MQTT31Tests {
    private func connect31(flags: UInt8, _ payload: [UInt8]) -> [UInt8] {
        packet(0x10, s("MQIsdp") + [0x03, flags, 0x00, 0x3C] + payload)
    }

    private func decodedConnect(_ bytes: [UInt8]) throws -> ConnectPacket {
        guard case .connect(let connect) = try decodeOne(bytes, .v311) else {
            throw MQTTDecodeError(reasonCode: .malformedPacket, message: "not a CONNECT")
        }
        return connect
    }

    @Test func protocolNameAndLevelGoTogether() {
        #expect(MQTTProtocolVersion(protocolName: "MQIsdp", level: 3) == .v31)
        #expect(MQTTProtocolVersion(protocolName: "MQTT", level: 4) == .v311)
        #expect(MQTTProtocolVersion(protocolName: "MQTT", level: 5) == .v5)
        for (name, level) in [("MQTT", 3), ("MQIsdp", 4), ("MQIsdp", 5), ("MQIsdp", 0x83), ("mqisdp", 3), ("", 3)] {
            #expect(MQTTProtocolVersion(protocolName: name, level: UInt8(level)) == nil, "\(name) \(level)")
        }
        #expect(MQTTProtocolVersion.allCases.map(\.protocolName) == ["MQIsdp", "MQTT", "MQTT"])
        #expect(MQTTProtocolVersion.allCases.map(\.description) == ["3.1", "3.1.1", "5.0"])
    }

    @Test func connectIsReadInItsOwnLevelWhateverTheConnectionSays() throws {
        let bytes = connect31(flags: 0x02, s("plc-7"))
        for version in MQTTProtocolVersion.allCases {
            let packet = try decodeOne(bytes, version)
            #expect(packet == .connect(ConnectPacket(protocolVersion: .v31, clientIdentifier: "plc-7")))
        }
    }

    @Test func connAckHasNoSessionPresentFlag() throws {
        let resumed = MQTTPacket.connAck(ConnAckPacket(sessionPresent: true))
        #expect(try encoded(resumed, .v31) == [0x20, 0x02, 0x00, 0x00])
        #expect(try encoded(resumed, .v311) == [0x20, 0x02, 0x01, 0x00])
        #expect(resumed.encodedSize(version: .v31) == 4)
        // The first byte is reserved and unused in 3.1: a client reads no flag from it.
        #expect(try decodeOne([0x20, 0x02, 0x01, 0x00], .v31) == .connAck(ConnAckPacket()))
        #expect(try decodeOne([0x20, 0x02, 0xFF, 0x05], .v31) == .connAck(ConnAckPacket(reasonCode: 5)))
    }

    @Test func connAckRefusalsUseTheReturnCodesOf31() throws {
        let cases: [(ReasonCode, UInt8)] = [
            (.unsupportedProtocolVersion, 1), (.clientIdentifierNotValid, 2), (.serverUnavailable, 3),
            (.badUserNameOrPassword, 4), (.notAuthorized, 5), (.quotaExceeded, 3),
        ]
        for (reason, code) in cases {
            let bytes = try encoded(.connAck(ConnAckPacket(reason: reason)), .v31)
            #expect(bytes == [0x20, 0x02, 0x00, code], "\(reason)")
        }
    }

    @Test func subAckWithAFailureCannotBeWrittenFor31() {
        var out = ByteBuffer(bytes: [0xAA])
        let refused = MQTTPacket.subAck(SubAckPacket(packetIdentifier: 3, reasonCodes: [1, 0x80]))
        #expect(throws: MQTTEncodeError.self) { try refused.encode(into: &out, version: .v31) }
        #expect(Array(out.readableBytesView) == [0xAA], "a refused encode writes nothing")
        #expect(throws: Never.self) { try refused.encode(into: &out, version: .v311) }
    }

    @Test(arguments: [
        ([0x6A, 0x02, 0x00, 0x07], MQTTPacket.pubRel(PubAckPacket(packetIdentifier: 7))),
        (
            packet(0x8A, [0x00, 0x08] + s("a/#") + [0x01]),
            .subscribe(
                SubscribePacket(
                    packetIdentifier: 8,
                    subscriptions: [
                        TopicSubscription(topicFilter: "a/#", options: SubscriptionOptions(qos: .atLeastOnce))
                    ]
                ))
        ),
        (
            packet(0xAA, [0x00, 0x09] + s("a/#")),
            .unsubscribe(UnsubscribePacket(packetIdentifier: 9, topicFilters: ["a/#"]))
        ),
    ])
    func resentPacketsMayCarryDup(_ bytes: [UInt8], _ expected: MQTTPacket) throws {
        #expect(try decodeOne(bytes, .v31) == expected)
        #expect(decodeError(bytes, .v311)?.reasonCode == .malformedPacket)
        #expect(decodeError(bytes, .v5)?.reasonCode == .malformedPacket)
    }

    @Test func reservedConnectFlagIsIgnored() throws {
        let connect = try decodedConnect(connect31(flags: 0x03, s("c")))
        #expect(connect == ConnectPacket(protocolVersion: .v31, clientIdentifier: "c", cleanStart: true))
    }

    @Test func willQoSAndRetainWithoutTheWillFlagAreIgnored() throws {
        // Flags 0x2A: will retain and will QoS 1 without the will flag, clean session. (Will QoS 3
        // stays malformed, with or without the flag.)
        let connect = try decodedConnect(connect31(flags: 0x2A, s("c")))
        #expect(connect.will == nil)
        #expect(connect.cleanStart)
    }

    @Test func userNameOrPasswordFlagWithoutTheFieldAtTheEndIsAbsent() throws {
        let noUserName = try decodedConnect(connect31(flags: 0x82, s("c")))
        #expect(noUserName.username == nil)
        #expect(noUserName.password == nil)
        let noPassword = try decodedConnect(connect31(flags: 0xC2, s("c") + s("u")))
        #expect(noPassword.username == "u")
        #expect(noPassword.password == nil)
        // 3.1.1 has no such leniency.
        let strict = packet(0x10, s("MQTT") + [0x04, 0xC2, 0x00, 0x3C] + s("c") + s("u"))
        #expect(decodeError(strict, .v311)?.reasonCode == .malformedPacket)
    }

    @Test func clientIdentifierLengthIsLeftToTheServer() throws {
        // 3.1 allows 1 to 23 characters; that is a rule for the server's CONNECT handling, which
        // answers it with CONNACK 2, so the codec reads any length.
        let long = String(repeating: "x", count: 24)
        #expect(try decodedConnect(connect31(flags: 0x02, s(long))).clientIdentifier == long)
        #expect(try decodedConnect(connect31(flags: 0x02, s(""))).clientIdentifier.isEmpty)
    }

    @Test func randomConnectsOf31CarryMQIsdpLevel3() throws {
        var generator = RandomPacketGenerator(seed: 31, version: .v31)
        for _ in 0..<200 {
            let bytes = try encoded(.connect(generator.connect()), .v5)
            // After the one- or two-byte Remaining Length: 00 06 "MQIsdp" 03.
            let offset = bytes[1] & 0x80 == 0 ? 2 : 3
            #expect(Array(bytes[offset..<offset + 9]) == [0x00, 0x06] + utf8("MQIsdp") + [0x03])
        }
    }
}
