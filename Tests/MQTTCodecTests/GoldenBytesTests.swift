import MQTTCodec
import NIOCore
import Testing
import WharfCore

/// A packet written out by hand from the specifications, with the value it must decode to.
struct GoldenCase: Sendable, CustomTestStringConvertible {
    var name: String
    var version: MQTTProtocolVersion
    var bytes: [UInt8]
    var packet: MQTTPacket
    var testDescription: String { "\(name) (\(version))" }
}

let goldenCases: [GoldenCase] = [
    // MARK: CONNECT
    GoldenCase(
        name: "CONNECT with will, user name and password",
        version: .v311,
        // Flags 0xEE: user name, password, will retain, will QoS 1, will, clean session.
        bytes: [0x10, 0x30] + s("MQTT") + [0x04, 0xEE, 0x00, 0x3C] + s("client1") + s("will/topic") + s("bye")
            + s("user") + s("pass"),
        packet: .connect(
            ConnectPacket(
                protocolVersion: .v311,
                clientIdentifier: "client1",
                cleanStart: true,
                keepAlive: 60,
                username: "user",
                password: utf8("pass"),
                will: Will(topic: "will/topic", payload: buffer("bye"), qos: .atLeastOnce, retain: true)
            )
        )
    ),
    GoldenCase(
        name: "minimal CONNECT",
        version: .v311,
        bytes: [0x10, 0x0C] + s("MQTT") + [0x04, 0x00, 0x00, 0x00] + s(""),
        packet: .connect(
            ConnectPacket(protocolVersion: .v311, clientIdentifier: "", cleanStart: false, keepAlive: 0)
        )
    ),
    GoldenCase(
        name: "CONNECT with properties and will properties",
        version: .v5,
        // Flags 0xD6: user name, password, will QoS 2, will, clean start.
        bytes: [0x10, 0x45] + s("MQTT") + [0x05, 0xD6, 0x00, 0x1E]
            + [0x17, 0x11, 0x00, 0x00, 0x0E, 0x10, 0x21, 0x00, 0x14, 0x22, 0x00, 0x0A, 0x26] + s("a") + s("b")
            + [0x27, 0x00, 0x00, 0x04, 0x00]
            + s("c5")
            + [0x0E, 0x01, 0x01, 0x18, 0x00, 0x00, 0x00, 0x05, 0x26] + s("k") + s("v")
            + s("lwt") + s("x") + s("u") + bin([1, 2, 3]),
        packet: .connect(
            ConnectPacket(
                protocolVersion: .v5,
                clientIdentifier: "c5",
                cleanStart: true,
                keepAlive: 30,
                username: "u",
                password: [1, 2, 3],
                will: Will(
                    topic: "lwt",
                    payload: buffer("x"),
                    qos: .exactlyOnce,
                    properties: MQTTProperties(
                        payloadFormatIndicator: 1,
                        willDelayInterval: 5,
                        userProperties: [UserProperty("k", "v")]
                    )
                ),
                properties: MQTTProperties(
                    sessionExpiryInterval: 3600,
                    receiveMaximum: 20,
                    topicAliasMaximum: 10,
                    userProperties: [UserProperty("a", "b")],
                    maximumPacketSize: 1024
                )
            )
        )
    ),
    GoldenCase(
        name: "CONNECT with password but no user name",
        version: .v5,
        bytes: [0x10, 0x12] + s("MQTT") + [0x05, 0x42, 0x00, 0x0A, 0x00] + s("id") + bin([9]),
        packet: .connect(ConnectPacket(clientIdentifier: "id", keepAlive: 10, password: [9]))
    ),
    GoldenCase(
        name: "CONNECT with extended authentication",
        version: .v5,
        bytes: [0x10, 0x1F] + s("MQTT") + [0x05, 0x00, 0x00, 0x00, 0x11, 0x15] + s("SCRAM") + [0x16] + bin([7, 7])
            + [0x17, 0x01, 0x19, 0x01] + s("a"),
        packet: .connect(
            ConnectPacket(
                clientIdentifier: "a",
                cleanStart: false,
                keepAlive: 0,
                properties: MQTTProperties(
                    authenticationMethod: "SCRAM",
                    authenticationData: [7, 7],
                    requestProblemInformation: 1,
                    requestResponseInformation: 1
                )
            )
        )
    ),

    // MARK: CONNACK
    GoldenCase(
        name: "CONNACK session present",
        version: .v311,
        bytes: [0x20, 0x02, 0x01, 0x00],
        packet: .connAck(ConnAckPacket(sessionPresent: true, reasonCode: 0))
    ),
    GoldenCase(
        name: "CONNACK not authorized",
        version: .v311,
        bytes: [0x20, 0x02, 0x00, 0x05],
        packet: .connAck(ConnAckPacket(reasonCode: 5))
    ),
    GoldenCase(
        name: "CONNACK with properties",
        version: .v5,
        bytes: [0x20, 0x19, 0x00, 0x00, 0x16, 0x12] + s("auto-1")
            + [0x13, 0x00, 0x78, 0x21, 0x00, 0x64, 0x22, 0x00, 0x05, 0x24, 0x01, 0x25, 0x00],
        packet: .connAck(
            ConnAckPacket(
                reasonCode: 0,
                properties: MQTTProperties(
                    assignedClientIdentifier: "auto-1",
                    serverKeepAlive: 120,
                    receiveMaximum: 100,
                    topicAliasMaximum: 5,
                    maximumQoS: 1,
                    retainAvailable: 0
                )
            )
        )
    ),
    GoldenCase(
        name: "CONNACK refused",
        version: .v5,
        bytes: [0x20, 0x03, 0x00, 0x87, 0x00],
        packet: .connAck(ConnAckPacket(reason: .notAuthorized))
    ),
    GoldenCase(
        name: "CONNACK with server capabilities",
        version: .v5,
        bytes: [0x20, 0x0E, 0x01, 0x00, 0x0B, 0x11, 0x00, 0x00, 0x00, 0x3C, 0x28, 0x00, 0x29, 0x01, 0x2A, 0x00],
        packet: .connAck(
            ConnAckPacket(
                sessionPresent: true,
                reasonCode: 0,
                properties: MQTTProperties(
                    sessionExpiryInterval: 60,
                    wildcardSubscriptionAvailable: 0,
                    subscriptionIdentifiersAvailable: 1,
                    sharedSubscriptionAvailable: 0
                )
            )
        )
    ),

    // MARK: PUBLISH
    GoldenCase(
        name: "PUBLISH QoS 0",
        version: .v311,
        bytes: [0x30, 0x0A] + s("a/b") + utf8("hello"),
        packet: .publish(PublishPacket(topic: "a/b", payload: buffer("hello")))
    ),
    GoldenCase(
        name: "PUBLISH QoS 1 retained duplicate",
        version: .v311,
        bytes: [0x3B, 0x06] + s("t") + [0x12, 0x34, 0xFF],
        packet: .publish(
            PublishPacket(
                topic: "t",
                payload: buffer([0xFF]),
                qos: .atLeastOnce,
                retain: true,
                dup: true,
                packetIdentifier: 0x1234
            )
        )
    ),
    GoldenCase(
        name: "PUBLISH QoS 2 with empty payload",
        version: .v311,
        bytes: [0x34, 0x0C] + s("über/ß") + [0x00, 0x02],
        packet: .publish(
            PublishPacket(topic: "über/ß", payload: ByteBuffer(), qos: .exactlyOnce, packetIdentifier: 2)
        )
    ),
    GoldenCase(
        name: "PUBLISH QoS 2 with every publish property",
        version: .v5,
        bytes: [0x34, 0x38] + s("sensors/1") + [0x00, 0x01, 0x28, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x3C, 0x03]
            + s("json") + [0x08] + s("r/1") + [0x09] + bin([0xAB, 0xCD])
            + [0x0B, 0x01, 0x0B, 0xAC, 0x02, 0x23, 0x00, 0x07, 0x26] + s("x") + s("y") + utf8("{}"),
        packet: .publish(
            PublishPacket(
                topic: "sensors/1",
                payload: buffer("{}"),
                qos: .exactlyOnce,
                packetIdentifier: 1,
                properties: MQTTProperties(
                    payloadFormatIndicator: 1,
                    messageExpiryInterval: 60,
                    contentType: "json",
                    responseTopic: "r/1",
                    correlationData: [0xAB, 0xCD],
                    subscriptionIdentifiers: [1, 300],
                    topicAlias: 7,
                    userProperties: [UserProperty("x", "y")]
                )
            )
        )
    ),
    GoldenCase(
        name: "PUBLISH by topic alias",
        version: .v5,
        bytes: [0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x02, 0x7A],
        packet: .publish(
            PublishPacket(topic: "", payload: buffer("z"), properties: MQTTProperties(topicAlias: 2))
        )
    ),
    GoldenCase(
        name: "PUBLISH QoS 1 without properties",
        version: .v5,
        bytes: [0x33, 0x08] + s("t") + [0x00, 0x05, 0x00] + utf8("hi"),
        packet: .publish(
            PublishPacket(topic: "t", payload: buffer("hi"), qos: .atLeastOnce, retain: true, packetIdentifier: 5)
        )
    ),

    // MARK: PUBACK, PUBREC, PUBREL, PUBCOMP
    GoldenCase(
        name: "PUBACK",
        version: .v311,
        bytes: [0x40, 0x02, 0x00, 0x07],
        packet: .pubAck(PubAckPacket(packetIdentifier: 7))
    ),
    GoldenCase(
        name: "PUBREC",
        version: .v311,
        bytes: [0x50, 0x02, 0x00, 0x08],
        packet: .pubRec(PubAckPacket(packetIdentifier: 8))
    ),
    GoldenCase(
        name: "PUBREL",
        version: .v311,
        bytes: [0x62, 0x02, 0x00, 0x08],
        packet: .pubRel(PubAckPacket(packetIdentifier: 8))
    ),
    GoldenCase(
        name: "PUBCOMP",
        version: .v311,
        bytes: [0x70, 0x02, 0xFF, 0xFF],
        packet: .pubComp(PubAckPacket(packetIdentifier: 0xFFFF))
    ),
    GoldenCase(
        name: "PUBACK success, short form",
        version: .v5,
        bytes: [0x40, 0x02, 0x00, 0x07],
        packet: .pubAck(PubAckPacket(packetIdentifier: 7))
    ),
    GoldenCase(
        name: "PUBACK with reason code only",
        version: .v5,
        bytes: [0x40, 0x03, 0x00, 0x07, 0x10],
        packet: .pubAck(PubAckPacket(packetIdentifier: 7, reasonCode: .noMatchingSubscribers))
    ),
    GoldenCase(
        name: "PUBREC with reason string",
        version: .v5,
        bytes: [0x50, 0x0B, 0x00, 0x09, 0x80, 0x07, 0x1F] + s("oops"),
        packet: .pubRec(
            PubAckPacket(
                packetIdentifier: 9,
                reasonCode: .unspecifiedError,
                properties: MQTTProperties(reasonString: "oops")
            )
        )
    ),
    GoldenCase(
        name: "PUBREL packet identifier not found",
        version: .v5,
        bytes: [0x62, 0x03, 0x00, 0x09, 0x92],
        packet: .pubRel(PubAckPacket(packetIdentifier: 9, reasonCode: .packetIdentifierNotFound))
    ),
    GoldenCase(
        name: "PUBCOMP",
        version: .v5,
        bytes: [0x70, 0x02, 0x00, 0x09],
        packet: .pubComp(PubAckPacket(packetIdentifier: 9))
    ),

    // MARK: SUBSCRIBE, SUBACK
    GoldenCase(
        name: "SUBSCRIBE two filters",
        version: .v311,
        bytes: [0x82, 0x0C, 0x00, 0x0A] + s("a/+") + [0x01] + s("#") + [0x02],
        packet: .subscribe(
            SubscribePacket(
                packetIdentifier: 10,
                subscriptions: [
                    TopicSubscription(topicFilter: "a/+", options: SubscriptionOptions(qos: .atLeastOnce)),
                    TopicSubscription(topicFilter: "#", options: SubscriptionOptions(qos: .exactlyOnce)),
                ]
            )
        )
    ),
    GoldenCase(
        name: "SUBSCRIBE with options and properties",
        version: .v5,
        // Options 0x2D: retain handling 2, retain as published, no local, QoS 1; 0x12: handling 1, QoS 2.
        bytes: [0x82, 0x1F, 0x00, 0x0B, 0x09, 0x0B, 0x2A, 0x26] + s("s") + s("1") + s("x/#") + [0x2D]
            + s("$share/g/y") + [0x12],
        packet: .subscribe(
            SubscribePacket(
                packetIdentifier: 11,
                subscriptions: [
                    TopicSubscription(
                        topicFilter: "x/#",
                        options: SubscriptionOptions(
                            qos: .atLeastOnce,
                            noLocal: true,
                            retainAsPublished: true,
                            retainHandling: 2
                        )
                    ),
                    TopicSubscription(
                        topicFilter: "$share/g/y",
                        options: SubscriptionOptions(qos: .exactlyOnce, retainHandling: 1)
                    ),
                ],
                properties: MQTTProperties(subscriptionIdentifiers: [42], userProperties: [UserProperty("s", "1")])
            )
        )
    ),
    GoldenCase(
        name: "SUBACK",
        version: .v311,
        bytes: [0x90, 0x05, 0x00, 0x0A, 0x01, 0x02, 0x80],
        packet: .subAck(SubAckPacket(packetIdentifier: 10, reasonCodes: [1, 2, 0x80]))
    ),
    GoldenCase(
        name: "SUBACK with reason string",
        version: .v5,
        bytes: [0x90, 0x0B, 0x00, 0x0B, 0x05, 0x1F] + s("no") + [0x01, 0xA2, 0x87],
        packet: .subAck(
            SubAckPacket(
                packetIdentifier: 11,
                reasonCodes: [0x01, 0xA2, 0x87],
                properties: MQTTProperties(reasonString: "no")
            )
        )
    ),

    // MARK: UNSUBSCRIBE, UNSUBACK
    GoldenCase(
        name: "UNSUBSCRIBE",
        version: .v311,
        bytes: [0xA2, 0x0A, 0x00, 0x0C] + s("a/+") + s("#"),
        packet: .unsubscribe(UnsubscribePacket(packetIdentifier: 12, topicFilters: ["a/+", "#"]))
    ),
    GoldenCase(
        name: "UNSUBSCRIBE with user property",
        version: .v5,
        bytes: [0xA2, 0x0D, 0x00, 0x0D, 0x07, 0x26] + s("k") + s("v") + s("a"),
        packet: .unsubscribe(
            UnsubscribePacket(
                packetIdentifier: 13,
                topicFilters: ["a"],
                properties: MQTTProperties(userProperties: [UserProperty("k", "v")])
            )
        )
    ),
    GoldenCase(
        name: "UNSUBACK",
        version: .v311,
        bytes: [0xB0, 0x02, 0x00, 0x0C],
        packet: .unsubAck(UnsubAckPacket(packetIdentifier: 12))
    ),
    GoldenCase(
        name: "UNSUBACK with reason codes",
        version: .v5,
        bytes: [0xB0, 0x05, 0x00, 0x0D, 0x00, 0x00, 0x11],
        packet: .unsubAck(UnsubAckPacket(packetIdentifier: 13, reasonCodes: [.success, .noSubscriptionExisted]))
    ),

    // MARK: PINGREQ, PINGRESP, DISCONNECT, AUTH
    GoldenCase(name: "PINGREQ", version: .v311, bytes: [0xC0, 0x00], packet: .pingReq),
    GoldenCase(name: "PINGRESP", version: .v311, bytes: [0xD0, 0x00], packet: .pingResp),
    GoldenCase(name: "PINGREQ", version: .v5, bytes: [0xC0, 0x00], packet: .pingReq),
    GoldenCase(name: "PINGRESP", version: .v5, bytes: [0xD0, 0x00], packet: .pingResp),
    GoldenCase(name: "DISCONNECT", version: .v311, bytes: [0xE0, 0x00], packet: .disconnect(DisconnectPacket())),
    GoldenCase(name: "DISCONNECT normal", version: .v5, bytes: [0xE0, 0x00], packet: .disconnect(DisconnectPacket())),
    GoldenCase(
        name: "DISCONNECT with will",
        version: .v5,
        bytes: [0xE0, 0x01, 0x04],
        packet: .disconnect(DisconnectPacket(reasonCode: .disconnectWithWill))
    ),
    GoldenCase(
        name: "DISCONNECT use another server",
        version: .v5,
        bytes: [0xE0, 0x15, 0x9C, 0x13, 0x1C] + s("other:1883") + [0x1F] + s("bye"),
        packet: .disconnect(
            DisconnectPacket(
                reasonCode: .useAnotherServer,
                properties: MQTTProperties(serverReference: "other:1883", reasonString: "bye")
            )
        )
    ),
    GoldenCase(
        name: "DISCONNECT with session expiry",
        version: .v5,
        bytes: [0xE0, 0x07, 0x00, 0x05, 0x11, 0x00, 0x00, 0x01, 0x00],
        packet: .disconnect(DisconnectPacket(properties: MQTTProperties(sessionExpiryInterval: 256)))
    ),
    GoldenCase(name: "AUTH success", version: .v5, bytes: [0xF0, 0x00], packet: .auth(AuthPacket())),
    GoldenCase(
        name: "AUTH continue",
        version: .v5,
        bytes: [0xF0, 0x0F, 0x18, 0x0D, 0x15] + s("SCRAM") + [0x16] + bin([1, 2]),
        packet: .auth(
            AuthPacket(
                reasonCode: .continueAuthentication,
                properties: MQTTProperties(authenticationMethod: "SCRAM", authenticationData: [1, 2])
            )
        )
    ),

    // MARK: MQTT 3.1 (protocol name "MQIsdp", level 3)
    GoldenCase(
        name: "CONNECT with will, user name and password",
        version: .v31,
        // Flags 0xEE: user name, password, will retain, will QoS 1, will, clean session.
        bytes: [0x10, 0x32] + s("MQIsdp") + [0x03, 0xEE, 0x00, 0x3C] + s("client1") + s("will/topic") + s("bye")
            + s("user") + s("pass"),
        packet: .connect(
            ConnectPacket(
                protocolVersion: .v31,
                clientIdentifier: "client1",
                cleanStart: true,
                keepAlive: 60,
                username: "user",
                password: utf8("pass"),
                will: Will(topic: "will/topic", payload: buffer("bye"), qos: .atLeastOnce, retain: true)
            )
        )
    ),
    GoldenCase(
        name: "minimal CONNECT, persistent session",
        version: .v31,
        bytes: [0x10, 0x0F] + s("MQIsdp") + [0x03, 0x00, 0x00, 0x00] + s("c"),
        packet: .connect(ConnectPacket(protocolVersion: .v31, clientIdentifier: "c", cleanStart: false, keepAlive: 0))
    ),
    GoldenCase(
        name: "CONNACK accepted",
        version: .v31,
        bytes: [0x20, 0x02, 0x00, 0x00],
        packet: .connAck(ConnAckPacket(reasonCode: 0))
    ),
    GoldenCase(
        name: "CONNACK identifier rejected",
        version: .v31,
        bytes: [0x20, 0x02, 0x00, 0x02],
        packet: .connAck(ConnAckPacket(reasonCode: 2))
    ),
    GoldenCase(
        name: "SUBACK",
        version: .v31,
        bytes: [0x90, 0x05, 0x00, 0x0A, 0x00, 0x01, 0x02],
        packet: .subAck(SubAckPacket(packetIdentifier: 10, reasonCodes: [0, 1, 2]))
    ),
    GoldenCase(
        name: "PUBREL",
        version: .v31,
        bytes: [0x62, 0x02, 0x00, 0x07],
        packet: .pubRel(PubAckPacket(packetIdentifier: 7))
    ),
]

@Suite struct GoldenBytesTests {
    @Test(arguments: goldenCases)
    func decodesToTheExpectedPacket(_ golden: GoldenCase) throws {
        let packet = try decodeOne(golden.bytes, golden.version)
        #expect(packet == golden.packet)
    }

    @Test(arguments: goldenCases)
    func encodesBackToTheSameBytes(_ golden: GoldenCase) throws {
        let packet = try #require(try decodeOne(golden.bytes, golden.version))
        #expect(try encoded(packet, golden.version) == golden.bytes)
        #expect(try encoded(golden.packet, golden.version) == golden.bytes)
        #expect(golden.packet.encodedSize(version: golden.version) == golden.bytes.count)
    }

    @Test func publishPayloadIsASliceOfTheInput() throws {
        let bytes: [UInt8] = [0x30, 0x0A] + s("a/b") + utf8("hello")
        var input = buffer(bytes)
        let packet = try MQTTPacket.decode(from: &input, version: .v311, maxPacketSize: 1000)
        guard case .publish(let publish) = packet else {
            Issue.record("expected PUBLISH")
            return
        }
        let inputBase = input.withUnsafeReadableBytes { $0.baseAddress! } - bytes.count
        let payloadBase = publish.payload.withUnsafeReadableBytes { $0.baseAddress! }
        #expect(payloadBase == inputBase + 7)
    }

    @Test func publishHeaderPlusPayloadEqualsTheWholePacket() throws {
        for golden in goldenCases {
            guard case .publish(let publish) = golden.packet else { continue }
            var header = ByteBuffer()
            try publish.encodeHeader(into: &header, version: golden.version)
            header.writeImmutableBuffer(publish.payload)
            #expect(Array(header.readableBytesView) == golden.bytes, "\(golden.name)")
        }
    }

    @Test func decodesSeveralPacketsFromOneBuffer() throws {
        let all = goldenCases.filter { $0.version == .v5 }
        var input = buffer(all.flatMap(\.bytes))
        for golden in all {
            let packet = try MQTTPacket.decode(from: &input, version: .v5, maxPacketSize: 1 << 20)
            #expect(packet == golden.packet, "\(golden.name)")
        }
        #expect(input.readableBytes == 0)
        #expect(try MQTTPacket.decode(from: &input, version: .v5, maxPacketSize: 1 << 20) == nil)
    }
}
