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

    @Test func aQoS2MessageTheStoreCouldNotKeepIsRoutedAgainWhenResent() throws {
        let harness = BrokerHarness()
        let sink = HeldSink()
        harness.broker.addForwardRoute(DurableRoute(name: "up", filter: "#", sink: sink))
        let client = try harness.connection()
        client.version = .v311
        _ = try client.connect("pub", cleanStart: false)
        try client.send(publish("a", id: 5, qos: .exactlyOnce))
        sink.complete("a", .failed("disk full"))
        harness.loop.run()
        // MQTT 3.1.1 cannot refuse: closed without PUBREC, the client keeps the message...
        #expect(acks(try client.received()).isEmpty)
        #expect(!client.isActive)
        // ...and sends it again with DUP: it must be routed (and stored) this time, not
        // acknowledged as a duplicate of a message that was never kept.
        let again = try harness.connection()
        again.version = .v311
        _ = try again.connect("pub", cleanStart: false)
        var resend = PublishPacket(
            topic: "a", payload: ByteBuffer(string: "a"), qos: .exactlyOnce, packetIdentifier: 5)
        resend.dup = true
        try again.send(.publish(resend))
        #expect(sink.topics == ["a"])
        #expect(acks(try again.received()).isEmpty)
        sink.complete("a", .stored)
        harness.loop.run()
        #expect(acks(try again.received()).map(\.0) == [5])
    }

    @Test func aResendWhileTheFirstCopyIsPendingGetsTheFirstCopysOutcome() throws {
        let harness = BrokerHarness()
        let sink = HeldSink()
        harness.broker.addForwardRoute(DurableRoute(name: "up", filter: "#", sink: sink))
        let client = try harness.connection()
        _ = try client.connect("pub")
        try client.send(publish("a", id: 5, qos: .exactlyOnce))
        try client.send(publish("a", id: 5, qos: .exactlyOnce))
        // Not routed twice, and not acknowledged before the first copy is kept.
        #expect(sink.topics == ["a"])
        #expect(acks(try client.received()).isEmpty)
        sink.complete("a", .rejectedQueueFull)
        harness.loop.run()
        #expect(acks(try client.received()).map(\.1) == [.quotaExceeded, .quotaExceeded])
    }

    @Test func anOutcomeThatFindsTheConnectionClosedStillFreesTheIdentifier() throws {
        let harness = BrokerHarness()
        let sink = HeldSink()
        harness.broker.addForwardRoute(DurableRoute(name: "up", filter: "#", sink: sink))
        let client = try harness.connection()
        _ = try client.connect("pub", cleanStart: true, sessionExpiry: 600)
        try client.send(publish("a", id: 5, qos: .exactlyOnce))
        try client.channel.close().wait()
        harness.loop.run()
        sink.complete("a", .failed("disk full"))
        harness.loop.run()
        let again = try harness.connection()
        _ = try again.connect("pub", cleanStart: false, sessionExpiry: 600)
        try again.send(publish("a", id: 5, qos: .exactlyOnce))
        #expect(sink.topics == ["a"])
        sink.complete("a", .stored)
        harness.loop.run()
        #expect(acks(try again.received()).map(\.1) == [.success])
    }

    @Test func aResendOnTheNextConnectionWaitsForTheWriteOfTheFirst() throws {
        let harness = BrokerHarness()
        let sink = HeldSink()
        harness.broker.addForwardRoute(DurableRoute(name: "up", filter: "#", sink: sink))
        let client = try harness.connection()
        _ = try client.connect("pub", cleanStart: true, sessionExpiry: 600)
        try client.send(publish("a", id: 5, qos: .exactlyOnce))
        try client.channel.close().wait()
        harness.loop.run()
        let again = try harness.connection()
        _ = try again.connect("pub", cleanStart: false, sessionExpiry: 600)
        try again.send(publish("a", id: 5, qos: .exactlyOnce))
        #expect(sink.topics == ["a"])
        #expect(acks(try again.received()).isEmpty)
        sink.complete("a", .stored)
        harness.loop.run()
        #expect(acks(try again.received()).map(\.1) == [.success])
    }

    @Test func inProcessPublishReturnsOnceStored() async throws {
        let harness = BrokerHarness()
        let sink = HeldSink()
        harness.broker.addForwardRoute(DurableRoute(name: "up", filter: "#", sink: sink))
        async let receipt = harness.broker.publish(
            Message(topic: "t", payload: ByteBuffer(string: "x"), qos: .atLeastOnce, principal: .adapter("test")))
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
            try await broker.publish(
                Message(topic: "t", payload: ByteBuffer(string: "x"), qos: .atLeastOnce, principal: .adapter("test")))
        }
        while sink.topics.isEmpty { await Task.yield() }
        sink.complete("t", .rejectedQueueFull)
        await #expect(throws: PublishError.self) { try await publishing.value }
    }

    /// Collects what the completion of `publish(_:completion:)` reports.
    final class Completions: Sendable {
        private let results = Mutex<[Result<PublishReceipt, PublishError>]>([])
        func record(_ result: Result<PublishReceipt, PublishError>) { results.withLock { $0.append(result) } }
        var all: [Result<PublishReceipt, PublishError>] { results.withLock { $0 } }
    }

    @Test func publishOnTheCallersThreadFinishesWhenNothingIsDurable() throws {
        let harness = BrokerHarness()
        let sink = HeldSink()
        harness.broker.addForwardRoute(DurableRoute(name: "up", filter: "up/#", sink: sink))
        let completions = Completions()
        for qos in [QoS.atMostOnce, .atLeastOnce, .exactlyOnce] {
            let progress = harness.broker.publish(
                Message(
                    topic: "local/\(qos.rawValue)", payload: ByteBuffer(string: "x"), qos: qos,
                    principal: .adapter("test")),
                completion: completions.record)
            guard case .finished(.success(let receipt)) = progress else {
                Issue.record("QoS \(qos.rawValue): \(progress)")
                continue
            }
            #expect(receipt.matchedSubscribers == 0)
        }
        // QoS 0 is never held for the store, even when a forward rule takes it.
        let atMostOnce = harness.broker.publish(
            Message(topic: "up/0", payload: ByteBuffer(string: "x"), qos: .atMostOnce, principal: .adapter("test")),
            completion: completions.record)
        guard case .finished(.success) = atMostOnce else {
            Issue.record("QoS 0 to a forward rule: \(atMostOnce)")
            return
        }
        let invalid = harness.broker.publish(
            Message(topic: "bad/#", payload: ByteBuffer(string: "x"), qos: .atLeastOnce, principal: .adapter("test")),
            completion: completions.record
        )
        guard case .finished(.failure(let error)) = invalid else {
            Issue.record("invalid topic: \(invalid)")
            return
        }
        #expect(error.reason == "topic-invalid")
        #expect(completions.all.isEmpty)
    }

    @Test func publishOnTheCallersThreadWaitsForTheStoreAndCompletesOnce() throws {
        let harness = BrokerHarness()
        let sink = HeldSink()
        harness.broker.addForwardRoute(DurableRoute(name: "up", filter: "up/#", sink: sink))
        let completions = Completions()
        let stored = harness.broker.publish(
            Message(topic: "up/1", payload: ByteBuffer(string: "x"), qos: .atLeastOnce, principal: .adapter("test")),
            completion: completions.record)
        let rejected = harness.broker.publish(
            Message(topic: "up/2", payload: ByteBuffer(string: "x"), qos: .exactlyOnce, principal: .adapter("test")),
            completion: completions.record)
        guard case .waiting = stored, case .waiting = rejected else {
            Issue.record("expected both to wait for the store: \(stored), \(rejected)")
            return
        }
        #expect(completions.all.isEmpty)
        sink.complete("up/1", .stored)
        sink.complete("up/2", .rejectedQueueFull)
        let results = completions.all
        #expect(results.count == 2)
        guard results.count == 2, case .success(let receipt) = results[0], case .failure(let error) = results[1] else {
            Issue.record("unexpected completions: \(results)")
            return
        }
        #expect(receipt.matchedSubscribers == 1)
        #expect(error.reason == "quota-exceeded")
    }

    @Test func publishOnTheCallersThreadFinishesWhenTheStoreAnswersAtOnce() throws {
        let harness = BrokerHarness()
        harness.broker.addForwardRoute(DurableRoute(name: "up", filter: "#", sink: ImmediateSink(.stored)))
        let completions = Completions()
        let progress = harness.broker.publish(
            Message(topic: "up/1", payload: ByteBuffer(string: "x"), qos: .atLeastOnce, principal: .adapter("test")),
            completion: completions.record)
        guard case .finished(.success(let receipt)) = progress else {
            Issue.record("expected an immediate result: \(progress)")
            return
        }
        #expect(receipt.matchedSubscribers == 1)
        #expect(completions.all.isEmpty)
    }
}

/// A bus with only the `async` publish: what `publish(_:completion:)` falls back to.
struct AsyncOnlyBus: MessageBus {
    func publish(_ message: Message) async throws(PublishError) -> PublishReceipt {
        guard message.topic != "refuse" else { throw PublishError(reason: "refused", message: "test") }
        return PublishReceipt(matchedSubscribers: 3)
    }

    func subscribe(filter: String, qos: QoS, principal: Principal, handler: @escaping @Sendable (Message) -> Void)
        throws(SubscribeError)
        -> BusSubscription
    { BusSubscription {} }

    func retainedMessages(matching filter: String, principal: Principal) throws(SubscribeError) -> [Message] { [] }
}

@Test func publishWithCompletionFallsBackToATaskOnBusesWithoutIt() async {
    let bus = AsyncOnlyBus()
    for (topic, succeeds) in [("accept", true), ("refuse", false)] {
        let result: Result<PublishReceipt, PublishError> = await withCheckedContinuation { continuation in
            let progress = bus.publish(
                Message(topic: topic, payload: ByteBuffer(string: "x"), principal: .adapter("test"))
            ) {
                continuation.resume(returning: $0)
            }
            guard case .waiting = progress else {
                Issue.record("expected .waiting from the fallback")
                continuation.resume(returning: .failure(PublishError(reason: "unexpected", message: "")))
                return
            }
        }
        switch result {
        case .success(let receipt): #expect(succeeds && receipt.matchedSubscribers == 3)
        case .failure(let error): #expect(!succeeds && error.reason == "refused")
        }
    }
}

/// A sink that reports `outcome` before `accept` returns, as a store with the record
/// already on disk could.
struct ImmediateSink: DurableSink {
    let outcome: DurableOutcome
    init(_ outcome: DurableOutcome) { self.outcome = outcome }
    func accept(_ message: Message, completion: @escaping @Sendable (DurableOutcome) -> Void) {
        completion(outcome)
    }
}
