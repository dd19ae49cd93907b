import AdapterKit
import MQTTCodec
import NIOCore
import NIOEmbedded
import Synchronization
import Testing
import WharfCore

@testable import Broker

/// A sink that holds every message until the test decides its outcome.
final class HeldSink: DurableSink {
    private let held = Mutex<[(topic: String, completion: @Sendable (DurableOutcome) -> Void)]>([])

    func accept(_ message: Message, completion: @escaping @Sendable (DurableOutcome) -> Void) {
        held.withLock { $0.append((message.topic, completion)) }
    }

    var topics: [String] { held.withLock { $0.map(\.topic) } }

    /// Completes the held message for `topic`.
    func complete(_ topic: String, _ outcome: DurableOutcome) {
        let completion = held.withLock { held -> (@Sendable (DurableOutcome) -> Void)? in
            guard let index = held.firstIndex(where: { $0.topic == topic }) else { return nil }
            return held.remove(at: index).completion
        }
        completion?(outcome)
    }
}

private func acks(_ packets: [MQTTPacket]) -> [(UInt16, ReasonCode)] {
    packets.compactMap { packet in
        switch packet {
        case .pubAck(let ack), .pubRec(let ack): (ack.packetIdentifier, ack.reasonCode)
        default: nil
        }
    }
}

private func publish(_ topic: String, id: UInt16, qos: QoS = .atLeastOnce) -> MQTTPacket {
    .publish(PublishPacket(topic: topic, payload: ByteBuffer(string: topic), qos: qos, packetIdentifier: id))
}

@Suite struct DurableAckTests {
    @Test func pubAckWaitsForTheStoreAndKeepsPublishOrder() throws {
        let harness = BrokerHarness()
        let sink = HeldSink()
        harness.broker.addForwardRoute(DurableRoute(name: "up", filter: "up/#", sink: sink))
        let client = try harness.connection()
        _ = try client.connect("pub")
        try client.send(publish("up/1", id: 1))
        try client.send(publish("local/2", id: 2))
        try client.send(publish("up/3", id: 3))
        #expect(acks(try client.received()).isEmpty)
        #expect(sink.topics == ["up/1", "up/3"])

        sink.complete("up/3", .stored)
        harness.loop.run()
        #expect(acks(try client.received()).isEmpty)  // 1 is still pending, and 2 and 3 wait behind it

        sink.complete("up/1", .stored)
        harness.loop.run()
        let sent = acks(try client.received())
        #expect(sent.map(\.0) == [1, 2, 3])
        #expect(sent[0].1 == .success)
        #expect(sent[1].1 == .noMatchingSubscribers)
    }

    @Test func rejectedMessageGetsQuotaExceededForMQTT5() throws {
        let harness = BrokerHarness()
        let sink = HeldSink()
        harness.broker.addForwardRoute(DurableRoute(name: "up", filter: "#", sink: sink))
        let client = try harness.connection()
        _ = try client.connect("pub5")
        try client.send(publish("a", id: 9))
        sink.complete("a", .rejectedQueueFull)
        harness.loop.run()
        let sent = acks(try client.received())
        #expect(sent.map(\.0) == [9])
        #expect(sent.first?.1 == .quotaExceeded)
        #expect(client.isActive)
    }

    @Test func failedStoreClosesMQTT311ClientWithoutAcknowledging() throws {
        let harness = BrokerHarness()
        let sink = HeldSink()
        harness.broker.addForwardRoute(DurableRoute(name: "up", filter: "#", sink: sink))
        let client = try harness.connection()
        client.version = .v311
        _ = try client.connect("pub3")
        try client.send(publish("a", id: 4))
        sink.complete("a", .failed("disk full"))
        harness.loop.run()
        #expect(acks(try client.received()).isEmpty)
        #expect(!client.isActive)
    }

    @Test func refusedQoS2FreesTheIdentifier() throws {
        let harness = BrokerHarness()
        let sink = HeldSink()
        harness.broker.addForwardRoute(DurableRoute(name: "up", filter: "#", sink: sink))
        let client = try harness.connection()
        _ = try client.connect("pub-qos2")
        try client.send(publish("a", id: 5, qos: .exactlyOnce))
        sink.complete("a", .rejectedQueueFull)
        harness.loop.run()
        #expect(acks(try client.received()).map(\.1) == [.quotaExceeded])
        // The same identifier is a new message now, so it is offered to the store again.
        try client.send(publish("a", id: 5, qos: .exactlyOnce))
        #expect(sink.topics == ["a"])
    }

    @Test func inProcessPublishReturnsOnceStored() async throws {
        let harness = BrokerHarness()
        let sink = HeldSink()
        harness.broker.addForwardRoute(DurableRoute(name: "up", filter: "#", sink: sink))
        async let receipt = harness.broker.publish(
            Message(topic: "t", payload: ByteBuffer(string: "x"), qos: .atLeastOnce))
        while sink.topics.isEmpty { await Task.yield() }
        sink.complete("t", .stored)
        #expect(try await receipt.matchedSubscribers == 1)
    }

    @Test func inProcessPublishReportsRejection() async throws {
        let harness = BrokerHarness()
        let sink = HeldSink()
        harness.broker.addForwardRoute(DurableRoute(name: "up", filter: "#", sink: sink))
        let broker = harness.broker
        let publishing = Task {
            try await broker.publish(Message(topic: "t", payload: ByteBuffer(string: "x"), qos: .atLeastOnce))
        }
        while sink.topics.isEmpty { await Task.yield() }
        sink.complete("t", .rejectedQueueFull)
        await #expect(throws: PublishError.self) { try await publishing.value }
    }
}
