import MQTTCodec
import NIOCore
import Synchronization
import Testing
import WharfConfig
import WharfCore

@testable import Broker

/// The client's MQTT 5 Maximum Packet Size on what the connection handler sends.
@Suite struct ClientPacketSizeTests {
    private func limited(_ maximum: UInt32) -> MQTTProperties {
        var properties = MQTTProperties()
        properties.maximumPacketSize = maximum
        return properties
    }

    private func subscribe(_ count: Int, identifier: UInt16 = 1) -> MQTTPacket {
        .subscribe(
            SubscribePacket(
                packetIdentifier: identifier,
                subscriptions: (0..<count).map {
                    TopicSubscription(
                        topicFilter: "size/\($0)",
                        options: SubscriptionOptions(
                            qos: .atLeastOnce, noLocal: false, retainAsPublished: false, retainHandling: 0))
                }))
    }

    private func hits(_ harness: BrokerHarness) -> Int {
        harness.broker.statistics.limitHitCount(.clientMaximumPacketSize)
    }

    @Test func connAckThatDoesNotFitIsNotSentAndTakesNoSessionOver() throws {
        let harness = BrokerHarness()
        let holder = try harness.connection()
        _ = try holder.connect("held", sessionExpiry: 60)
        let intruder = try harness.connection()
        #expect(try intruder.connect("held", properties: limited(8)) == nil)
        #expect(try intruder.received().isEmpty)
        #expect(!intruder.isActive)
        #expect(holder.isActive)
        #expect(try holder.received().isEmpty)
        #expect(hits(harness) == 1)
        #expect(harness.broker.statistics.clientsConnected.load(ordering: .relaxed) == 1)
    }

    @Test func connAckOfExactlyTheLimitIsSent() throws {
        let harness = BrokerHarness()
        let probe = try harness.connection()
        let size = MQTTPacket.connAck(try #require(try probe.connect("probe"))).encodedSize(version: .v5)
        let exact = try harness.connection()
        let ack = try #require(try exact.connect("exact", properties: limited(UInt32(size))))
        #expect(ack.reasonCode == 0)
        let over = try harness.connection()
        #expect(try over.connect("over", properties: limited(UInt32(size - 1))) == nil)
        #expect(!over.isActive)
    }

    /// The session writes PUBREL and the DISCONNECT of a takeover without this check: a client
    /// that took the smallest accepting CONNACK takes those.
    @Test func smallestAcceptingConnAckIsLargerThanWhatTheSessionWritesUnchecked() throws {
        let harness = BrokerHarness { config in
            config.maxInflightMessages = 65_535
            config.maxPacketSize = 0
            config.maxTopicAlias = 0
        }
        let client = try harness.connection()
        let ack = try #require(try client.connect("smallest"))
        let smallest = MQTTPacket.connAck(ack).encodedSize(version: .v5)
        let unchecked: [MQTTPacket] = [
            .pubRel(PubAckPacket(packetIdentifier: 1)),
            .disconnect(DisconnectPacket(reasonCode: .sessionTakenOver)),
            .disconnect(DisconnectPacket(reasonCode: .serverShuttingDown)),
        ]
        for packet in unchecked {
            #expect(packet.encodedSize(version: .v5) < smallest)
        }
    }

    @Test func refusingConnAckThatDoesNotFitIsNotSentEither() throws {
        let harness = BrokerHarness { $0.maxConnections = 1 }
        let first = try harness.connection()
        _ = try first.connect("first")
        let second = try harness.connection()
        // CONNACK 0x97 without properties is 5 bytes.
        #expect(try second.connect("second", properties: limited(4)) == nil)
        #expect(!second.isActive)
    }

    @Test func subAckThatDoesNotFitEndsTheConnectionBeforeAnySubscription() throws {
        let harness = BrokerHarness()
        let client = try harness.connection()
        _ = try client.connect("many", sessionExpiry: 60, properties: limited(60))
        try client.send(subscribe(100))
        let packets = try client.received()
        #expect(packets == [.disconnect(DisconnectPacket(reasonCode: .packetTooLarge))])
        #expect(!client.isActive)
        #expect(harness.broker.router.subscriptionCount == 0)
        #expect(hits(harness) == 1)
    }

    @Test func subAckThatFitsIsSent() throws {
        let harness = BrokerHarness()
        let client = try harness.connection()
        _ = try client.connect("fits", properties: limited(200))
        try client.send(subscribe(100))
        let packets = try client.received()
        #expect(packets == [.subAck(SubAckPacket(packetIdentifier: 1, reasonCodes: Array(repeating: 1, count: 100)))])
        #expect(harness.broker.router.subscriptionCount == 100)
    }

    @Test func unsubAckThatDoesNotFitEndsTheConnectionAndRemovesNothing() throws {
        let harness = BrokerHarness()
        let client = try harness.connection()
        _ = try client.connect("unsubscriber", sessionExpiry: 60, properties: limited(60))
        try client.send(subscribe(40))
        _ = try client.received()
        try client.send(
            .unsubscribe(UnsubscribePacket(packetIdentifier: 2, topicFilters: (0..<100).map { "size/\($0)" })))
        #expect(try client.received() == [.disconnect(DisconnectPacket(reasonCode: .packetTooLarge))])
        #expect(harness.broker.router.subscriptionCount == 40)
    }

    @Test func disconnectLeavesItsReasonStringOutWhereItDoesNotFit() throws {
        let harness = BrokerHarness()
        let roomy = try harness.connection()
        _ = try roomy.connect("roomy")
        try roomy.send(.connect(ConnectPacket(protocolVersion: .v5, clientIdentifier: "roomy")))
        let explained = try roomy.received()
        guard case .disconnect(let full)? = explained.first else {
            Issue.record("expected DISCONNECT, got \(explained)")
            return
        }
        #expect(full.properties.reasonString != nil)

        let tight = try harness.connection()
        _ = try tight.connect("tight", properties: limited(20))
        try tight.send(.connect(ConnectPacket(protocolVersion: .v5, clientIdentifier: "tight")))
        #expect(try tight.received() == [.disconnect(DisconnectPacket(reasonCode: .protocolError))])
        #expect(hits(harness) == 0)
    }
}
