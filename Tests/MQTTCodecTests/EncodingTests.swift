import MQTTCodec
import NIOCore
import Testing
import WharfCore

@Suite struct EncodingTests {
    private static let tooLong = String(repeating: "a", count: 65_536)

    /// Encoding must throw and leave what the buffer held before untouched.
    private func expectUnrepresentable(_ packet: MQTTPacket, _ version: MQTTProtocolVersion) {
        var out = ByteBuffer(bytes: [1, 2, 3])
        #expect(throws: MQTTEncodeError.self) { try packet.encode(into: &out, version: version) }
        #expect(Array(out.readableBytesView) == [1, 2, 3])
    }

    @Test func fieldsOver65535BytesAreRefused() {
        let payload = ByteBuffer()
        expectUnrepresentable(.publish(PublishPacket(topic: Self.tooLong, payload: payload)), .v311)
        expectUnrepresentable(.connect(ConnectPacket(protocolVersion: .v311, clientIdentifier: Self.tooLong)), .v311)
        expectUnrepresentable(
            .connect(ConnectPacket(clientIdentifier: "c", username: "u", password: Array(repeating: 0, count: 65_536))),
            .v5)
        let will = Will(topic: "w", payload: ByteBuffer(repeating: 0, count: 65_536))
        expectUnrepresentable(.connect(ConnectPacket(clientIdentifier: "c", will: will)), .v5)
        expectUnrepresentable(
            .subscribe(
                SubscribePacket(packetIdentifier: 1, subscriptions: [TopicSubscription(topicFilter: Self.tooLong)])),
            .v5
        )
        let longProperty = MQTTProperties(userProperties: [UserProperty("k", Self.tooLong)])
        expectUnrepresentable(.disconnect(DisconnectPacket(properties: longProperty)), .v5)
        let longData = MQTTProperties(correlationData: Array(repeating: 1, count: 65_536))
        expectUnrepresentable(.publish(PublishPacket(topic: "t", payload: payload, properties: longData)), .v5)
    }

    @Test func exactly65535BytesFit() throws {
        let topic = String(repeating: "é", count: 32_767) + "a"
        #expect(topic.utf8.count == 65_535)
        let packet = MQTTPacket.publish(PublishPacket(topic: topic, payload: ByteBuffer()))
        #expect(try decodeOne(try encoded(packet, .v311), .v311) == packet)
    }

    @Test func inconsistentPacketsAreRefused() {
        expectUnrepresentable(.publish(PublishPacket(topic: "t", payload: ByteBuffer(), qos: .atLeastOnce)), .v5)
        expectUnrepresentable(.auth(AuthPacket()), .v311)
        expectUnrepresentable(
            .connect(ConnectPacket(protocolVersion: .v311, clientIdentifier: "c", password: [1])), .v311)
        let options = SubscriptionOptions(retainHandling: 3)
        expectUnrepresentable(
            .subscribe(
                SubscribePacket(
                    packetIdentifier: 1, subscriptions: [TopicSubscription(topicFilter: "a", options: options)])),
            .v5
        )
        let identifiers = MQTTProperties(subscriptionIdentifiers: [268_435_456])
        expectUnrepresentable(.publish(PublishPacket(topic: "t", payload: ByteBuffer(), properties: identifiers)), .v5)
    }

    @Test func remainingLengthAbove268435455IsRefused() throws {
        let payload = ByteBuffer(repeating: 0, count: MQTTPacket.maximumRemainingLength - 2)
        let packet = PublishPacket(topic: "t", payload: payload)
        #expect(MQTTPacket.publish(packet).encodedSize(version: .v311) == MQTTPacket.maximumSize + 1)
        expectUnrepresentable(.publish(packet), .v311)
        var header = ByteBuffer()
        #expect(throws: MQTTEncodeError.self) { try packet.encodeHeader(into: &header, version: .v311) }
        #expect(header.readableBytes == 0)

        let fits = PublishPacket(topic: "t", payload: payload.getSlice(at: 0, length: payload.readableBytes - 1)!)
        try fits.encodeHeader(into: &header, version: .v311)
        #expect(Array(header.readableBytesView) == [0x30, 0xFF, 0xFF, 0xFF, 0x7F] + s("t"))
    }

    @Test func mqtt311LeavesOutWhatOnlyMQTT5Has() throws {
        let properties = MQTTProperties(reasonString: "r", userProperties: [UserProperty("k", "v")])
        let publish = MQTTPacket.publish(
            PublishPacket(topic: "t", payload: buffer("p"), dup: true, properties: MQTTProperties(contentType: "x"))
        )
        #expect(try encoded(publish, .v311) == [0x30, 0x04] + s("t") + utf8("p"))
        let pubAck = MQTTPacket.pubAck(
            PubAckPacket(packetIdentifier: 1, reasonCode: .quotaExceeded, properties: properties))
        #expect(try encoded(pubAck, .v311) == [0x40, 0x02, 0x00, 0x01])
        let unsubAck = MQTTPacket.unsubAck(
            UnsubAckPacket(packetIdentifier: 1, reasonCodes: [.success], properties: properties))
        #expect(try encoded(unsubAck, .v311) == [0xB0, 0x02, 0x00, 0x01])
        let disconnect = MQTTPacket.disconnect(
            DisconnectPacket(reasonCode: .serverShuttingDown, properties: properties))
        #expect(try encoded(disconnect, .v311) == [0xE0, 0x00])
    }

    @Test func mqtt311FailureCodesAreTranslated() throws {
        let subAck = MQTTPacket.subAck(SubAckPacket(packetIdentifier: 1, reasonCodes: [0, 1, 2, 0x87, 0xA2]))
        #expect(try encoded(subAck, .v311) == [0x90, 0x07, 0x00, 0x01, 0x00, 0x01, 0x02, 0x80, 0x80])
        let refused = MQTTPacket.connAck(ConnAckPacket(reason: .badUserNameOrPassword))
        #expect(try encoded(refused, .v311) == [0x20, 0x02, 0x00, 0x04])
        let banned = MQTTPacket.connAck(ConnAckPacket(reason: .banned))
        #expect(try encoded(banned, .v311) == [0x20, 0x02, 0x00, 0x05])
        let busy = MQTTPacket.connAck(ConnAckPacket(reason: .serverBusy))
        #expect(try encoded(busy, .v311) == [0x20, 0x02, 0x00, 0x03])
    }

    @Test func mqtt5ShortFormsAreUsedWhenAllowed() throws {
        #expect(try encoded(.pubRel(PubAckPacket(packetIdentifier: 2)), .v5) == [0x62, 0x02, 0x00, 0x02])
        #expect(try encoded(.disconnect(DisconnectPacket(reasonCode: .keepAliveTimeout)), .v5) == [0xE0, 0x01, 0x8D])
        #expect(try encoded(.auth(AuthPacket(reasonCode: .reAuthenticate)), .v5) == [0xF0, 0x02, 0x19, 0x00])
        // The long forms decode to the same packets.
        #expect(try decodeOne([0x62, 0x04, 0x00, 0x02, 0x00, 0x00], .v5) == .pubRel(PubAckPacket(packetIdentifier: 2)))
        #expect(try decodeOne([0xE0, 0x02, 0x00, 0x00], .v5) == .disconnect(DisconnectPacket()))
        #expect(try decodeOne([0xF0, 0x01, 0x00], .v5) == .auth(AuthPacket()))
    }

    @Test func encodedSizeMatchesForLargeProperties() throws {
        let properties = MQTTProperties(
            subscriptionIdentifiers: [1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455],
            userProperties: (0..<300).map { UserProperty("name\($0)", String(repeating: "v", count: $0)) }
        )
        let packet = MQTTPacket.publish(PublishPacket(topic: "t", payload: buffer("x"), properties: properties))
        let bytes = try encoded(packet, .v5)
        #expect(bytes.count == packet.encodedSize(version: .v5))
        #expect(try decodeOne(bytes, .v5) == packet)
    }
}

@Suite struct ReasonCodeTests {
    @Test func aliasesShareTheSuccessValue() {
        #expect(ReasonCode.normalDisconnection == .success)
        #expect(ReasonCode.grantedQoS0.rawValue == 0)
        #expect(ReasonCode.unspecifiedError.isFailure)
        #expect(!ReasonCode.grantedQoS2.isFailure)
    }

    @Test func connectReturnCodesMapBothWays() {
        #expect(ReasonCode.success.connectReturnCode == 0)
        #expect(ReasonCode.unsupportedProtocolVersion.connectReturnCode == 1)
        #expect(ReasonCode.clientIdentifierNotValid.connectReturnCode == 2)
        #expect(ReasonCode.serverUnavailable.connectReturnCode == 3)
        #expect(ReasonCode.badUserNameOrPassword.connectReturnCode == 4)
        #expect(ReasonCode.notAuthorized.connectReturnCode == 5)
        #expect(ReasonCode.malformedPacket.connectReturnCode == 3)
        for code: UInt8 in 0...5 {
            #expect(ReasonCode(connectReturnCode: code)?.connectReturnCode == code)
        }
        #expect(ReasonCode(connectReturnCode: 6) == nil)
    }

    @Test func decodeErrorsDescribeThemselves() {
        let error = decodeError([0x30, 0x80, 0x00], .v5)
        #expect(error?.description == "malformedPacket: remaining length is not minimally encoded")
    }
}
