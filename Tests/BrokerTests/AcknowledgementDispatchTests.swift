import MQTTCodec
import NIOCore
import Synchronization
import Testing
import WharfCore

@testable import Broker

/// How the connection handler answers acknowledgements from a subscriber.
@Suite struct AcknowledgementDispatchTests {
    /// A connected subscriber holding one unacknowledged delivery at `qos`.
    private func subscriberWithDelivery(_ harness: BrokerHarness, qos: QoS) throws -> (TestConnection, UInt16) {
        let subscriber = try harness.connection()
        _ = try subscriber.connect("acks", sessionExpiry: 60)
        try subscriber.subscribe("acks/t", qos: .exactlyOnce)
        _ = try subscriber.received()
        _ = try harness.broker.publishNow(
            Message(topic: "acks/t", payload: ByteBuffer(string: "m"), qos: qos, principal: .adapter("test")))
        let publishes = try subscriber.received().compactMap { if case .publish(let p) = $0 { p } else { nil } }
        return (subscriber, try #require(publishes.first?.packetIdentifier))
    }

    @Test func pubRecForQoS1EndsTheConnectionWithProtocolError() throws {
        let harness = BrokerHarness()
        let (subscriber, identifier) = try subscriberWithDelivery(harness, qos: .atLeastOnce)
        try subscriber.send(.pubRec(PubAckPacket(packetIdentifier: identifier)))
        let reasons = try subscriber.received().compactMap {
            if case .disconnect(let d) = $0 { d.reasonCode } else { nil }
        }
        #expect(reasons == [.protocolError])
        #expect(!subscriber.isActive)
        #expect(harness.broker.statistics.protocolErrors.load(ordering: .relaxed) == 1)
    }

    @Test func pubCompWithoutPubRelEndsTheConnection() throws {
        let harness = BrokerHarness()
        let (subscriber, identifier) = try subscriberWithDelivery(harness, qos: .exactlyOnce)
        try subscriber.send(.pubComp(PubAckPacket(packetIdentifier: identifier)))
        #expect(!subscriber.isActive)
    }

    @Test func acknowledgementsForUnknownIdentifiersKeepTheConnection() throws {
        let harness = BrokerHarness()
        let client = try harness.connection()
        _ = try client.connect("recovering")
        try client.send(.pubAck(PubAckPacket(packetIdentifier: 900)))
        try client.send(.pubComp(PubAckPacket(packetIdentifier: 901)))
        try client.send(.pubRec(PubAckPacket(packetIdentifier: 902)))
        try client.send(.pubRel(PubAckPacket(packetIdentifier: 903)))
        #expect(
            try client.received() == [
                .pubRel(PubAckPacket(packetIdentifier: 902, reasonCode: .packetIdentifierNotFound)),
                .pubComp(PubAckPacket(packetIdentifier: 903, reasonCode: .packetIdentifierNotFound)),
            ])
        #expect(client.isActive)
    }

    @Test func mqtt311PubRelForAnUnknownPubRecHasNoReasonCode() throws {
        let harness = BrokerHarness()
        let client = try harness.connection()
        client.version = .v311
        _ = try client.connect("recovering-311")
        try client.send(.pubRec(PubAckPacket(packetIdentifier: 5)))
        #expect(try client.received() == [.pubRel(PubAckPacket(packetIdentifier: 5))])
    }
}
