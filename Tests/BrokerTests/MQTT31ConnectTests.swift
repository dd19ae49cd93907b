import MQTTCodec
import NIOCore
import NIOEmbedded
import Testing
import WharfConfig
import WharfCore

@testable import Broker

/// MQTT 3.1 clients: the client identifier rule (1 to 23 characters, none assigned), CONNACK
/// without a session present flag, SUBACK without failure codes, and DUP on a resent PUBREL.
@Suite struct MQTT31ConnectTests {
    private func connect31(_ identifier: String, cleanStart: Bool = true) -> ConnectPacket {
        ConnectPacket(protocolVersion: .v31, clientIdentifier: identifier, cleanStart: cleanStart, keepAlive: 0)
    }

    /// Everything the broker wrote to `client` since the last read, as bytes.
    private func wire(_ client: TestConnection) throws -> [UInt8] {
        client.loop.run()
        var bytes: [UInt8] = []
        while let chunk = try client.channel.readOutbound(as: ByteBuffer.self) {
            bytes += chunk.readableBytesView
        }
        return bytes
    }

    private func v31Client(_ harness: BrokerHarness) throws -> TestConnection {
        let client = try harness.connection()
        client.version = .v31
        return client
    }

    @Test(arguments: ["", "x", "plc-0123456789abcdefghi", String(repeating: "é", count: 23)])
    func ruleAdmitsOneToTwentyThreeCharactersOnly(_ identifier: String) {
        let refusal = ClientIdentifierRule.refusal(for: connect31(identifier))
        #expect((refusal == nil) == !identifier.isEmpty, "\(identifier.unicodeScalars.count) characters")
    }

    @Test(arguments: [
        "plc-0123456789abcdefghij", String(repeating: "é", count: 24), String(repeating: "x", count: 300),
    ])
    func ruleRefusesMoreThanTwentyThreeCharacters(_ identifier: String) {
        #expect(ClientIdentifierRule.refusal(for: connect31(identifier)) != nil)
    }

    @Test func ruleLeavesLaterVersionsAlone() {
        for version in [MQTTProtocolVersion.v311, .v5] {
            for identifier in ["", String(repeating: "x", count: 24)] {
                let connect = ConnectPacket(protocolVersion: version, clientIdentifier: identifier)
                #expect(ClientIdentifierRule.refusal(for: connect) == nil)
            }
        }
    }

    @Test func connectIsAcceptedWithA31ConnAck() throws {
        let harness = BrokerHarness()
        let client = try v31Client(harness)
        try client.send(.connect(connect31("plc-0123456789abcdefghi")))
        #expect(try wire(client) == [0x20, 0x02, 0x00, 0x00])
        try client.send(.pingReq)
        #expect(try wire(client) == [0xD0, 0x00])
        #expect(client.isActive)
    }

    @Test(arguments: ["", "plc-0123456789abcdefghij"])
    func badClientIdentifierIsRefusedWithReturnCode2(_ identifier: String) throws {
        let harness = BrokerHarness()
        let client = try v31Client(harness)
        // A clean session too: 3.1 has no identifiers assigned by the server.
        try client.send(.connect(connect31(identifier, cleanStart: true)))
        #expect(try wire(client) == [0x20, 0x02, 0x00, 0x02])
        #expect(!client.isActive)
        #expect(harness.broker.connectedClients == 0)
    }

    @Test func resumedSessionIsNotAnnouncedButDelivers() throws {
        let harness = BrokerHarness()
        let first = try v31Client(harness)
        try first.send(.connect(connect31("plc-1", cleanStart: false)))
        #expect(try wire(first) == [0x20, 0x02, 0x00, 0x00])
        try first.subscribe("plant/cmd", qos: .atLeastOnce)
        #expect(try wire(first) == [0x90, 0x03, 0x00, 0x01, 0x01])
        try first.channel.close().wait()
        _ = try harness.broker.publishNow(
            Message(topic: "plant/cmd", payload: ByteBuffer(string: "go"), qos: .atLeastOnce, principal: .adapter("t")))

        let again = try v31Client(harness)
        try again.send(.connect(connect31("plc-1", cleanStart: false)))
        let bytes = try wire(again)
        // Session present stays 0 in 3.1, although the session and its queued message exist.
        #expect(Array(bytes.prefix(4)) == [0x20, 0x02, 0x00, 0x00])
        var rest = ByteBuffer(bytes: bytes.dropFirst(4))
        let delivered = try MQTTPacket.decode(from: &rest, version: .v31, maxPacketSize: 1 << 20)
        guard case .publish(let publish) = delivered else {
            Issue.record("expected the queued PUBLISH, got \(String(describing: delivered))")
            return
        }
        #expect(publish.topic == "plant/cmd")
        #expect(publish.qos == .atLeastOnce)
        #expect(String(buffer: publish.payload) == "go")
    }

    @Test func refusedSubscriptionGrantsTheRequestedQoSWithoutSubscribing() throws {
        let harness = BrokerHarness { $0.maxSubscriptionsPerClient = 1 }
        let client = try v31Client(harness)
        try client.send(.connect(connect31("plc-2")))
        _ = try wire(client)
        try client.subscribe("a", qos: .atMostOnce, identifier: 1)
        #expect(try wire(client) == [0x90, 0x03, 0x00, 0x01, 0x00])
        // Over max_subscriptions_per_client: 3.1 cannot hear 0x80, so it is granted QoS 1 ...
        try client.subscribe("b", qos: .atLeastOnce, identifier: 2)
        #expect(try wire(client) == [0x90, 0x03, 0x00, 0x02, 0x01])
        #expect(client.isActive)
        // ... and nothing is subscribed.
        _ = try harness.broker.publishNow(
            Message(topic: "b", payload: ByteBuffer(string: "no"), qos: .atLeastOnce, principal: .adapter("t")))
        _ = try harness.broker.publishNow(
            Message(topic: "a", payload: ByteBuffer(string: "yes"), qos: .atMostOnce, principal: .adapter("t")))
        var bytes = ByteBuffer(bytes: try wire(client))
        var topics: [String] = []
        while case .publish(let publish)? = try MQTTPacket.decode(from: &bytes, version: .v31, maxPacketSize: 1 << 20) {
            topics.append(publish.topic)
        }
        #expect(topics == ["a"])
    }

    @Test func invalidFilterGrantsTheRequestedQoSWhere311Gets0x80() throws {
        let harness = BrokerHarness()
        for (version, expected) in [(MQTTProtocolVersion.v31, UInt8(2)), (.v311, 0x80)] {
            let client = try harness.connection()
            client.version = version
            try client.send(.connect(ConnectPacket(protocolVersion: version, clientIdentifier: "f-\(version)")))
            _ = try wire(client)
            try client.subscribe("a/#/b", qos: .exactlyOnce)
            #expect(try wire(client) == [0x90, 0x03, 0x00, 0x01, expected], "\(version)")
        }
    }

    @Test func resentPubRelWithDupIsAnswered() throws {
        let harness = BrokerHarness()
        let client = try v31Client(harness)
        try client.send(.connect(connect31("plc-3")))
        _ = try wire(client)
        try client.send(
            .publish(
                PublishPacket(
                    topic: "t", payload: ByteBuffer(string: "x"), qos: .exactlyOnce, packetIdentifier: 5)))
        #expect(try wire(client) == [0x50, 0x02, 0x00, 0x05])
        // A 3.1 client that resends PUBREL sets DUP (0x6A); 3.1.1 would be closed for it.
        try client.channel.writeInbound(ByteBuffer(bytes: [0x6A, 0x02, 0x00, 0x05]))
        #expect(try wire(client) == [0x70, 0x02, 0x00, 0x05])
        #expect(client.isActive)
    }
}
