import MQTTCodec
import NIOCore
import Testing
import WharfConfig
import WharfCore

@testable import Broker

/// Retained messages: kept in the order they replaced each other, on disk as in memory, and
/// bounded in count and bytes; subscriptions bounded per client.
@Suite struct RetainedLimitsTests {
    private func retain(_ broker: MQTTBroker, _ topic: String, _ payload: String) throws {
        _ = try broker.publishNow(
            Message(
                topic: topic, payload: ByteBuffer(string: payload), qos: .atMostOnce, retain: true, principal: .uplink))
    }

    @Test func concurrentPublishersLeaveTheSameRetainedMessageOnDiskAsInMemory() async throws {
        for _ in 0..<20 {
            // Every other disk write is slow: a write that is not serialised with its update in
            // memory then lands after a newer one.
            let store = RecordingStore(isSlowRetained: {
                $0.last.map { Int(String($0)).map { $0 % 2 == 1 } ?? false } ?? false
            })
            let broker = BrokerHarness(store: store).broker
            await withTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        for index in 0..<200 { try? retain(broker, "r", "\(writer)-\(index)") }
                    }
                }
            }
            let memory = try broker.retainedMessages(matching: "r", principal: .uplink).first.map {
                String(buffer: $0.payload)
            }
            let disk = store.log.last { $0.hasPrefix("retain r ") }?.dropFirst("retain r ".count)
            #expect(memory.map { Substring($0) } == disk)
        }
    }

    @Test func theCountOfRetainedTopicsIsBounded() throws {
        let broker = BrokerHarness { $0.maxRetainedMessages = 3 }.broker
        for index in 0..<5 { try retain(broker, "r/\(index)", "x") }
        #expect(broker.snapshot().retained == 3)
        #expect(broker.snapshot().limitHits["max_retained_messages"] == 2)
        // Replacing and clearing a kept topic still works at the limit.
        try retain(broker, "r/0", "new")
        try retain(broker, "r/1", "")
        #expect(try broker.retainedMessages(matching: "r/#", principal: .uplink).map(\.topic) == ["r/0", "r/2"])
        try retain(broker, "r/9", "x")
        #expect(broker.snapshot().retained == 3)
    }

    @Test func theBytesOfRetainedMessagesAreBounded() throws {
        let broker = BrokerHarness { $0.maxRetainedBytes = 100 }.broker
        try retain(broker, "r/1", String(repeating: "a", count: 60))
        try retain(broker, "r/2", String(repeating: "b", count: 60))
        #expect(broker.snapshot().retained == 1)
        #expect(broker.snapshot().limitHits["max_retained_bytes"] == 1)
        // A smaller replacement fits, so does a second small one.
        try retain(broker, "r/1", "small")
        try retain(broker, "r/2", "small")
        #expect(broker.snapshot().retained == 2)
        #expect(broker.router.retained.bytes == 16)
    }

    @Test func aMessageNotRetainedIsStillDelivered() throws {
        let harness = BrokerHarness { $0.maxRetainedMessages = 1 }
        let client = try harness.connection()
        _ = try client.connect("c")
        try client.subscribe("r/#", qos: .atMostOnce)
        _ = try client.received()
        try retain(harness.broker, "r/1", "kept")
        try retain(harness.broker, "r/2", "live only")
        let topics = try client.received().compactMap { if case .publish(let p) = $0 { p.topic } else { nil } }
        #expect(topics == ["r/1", "r/2"])
        #expect(harness.broker.snapshot().retained == 1)
    }

    @Test func subscriptionsPerClientAreBounded() throws {
        let harness = BrokerHarness { $0.maxSubscriptionsPerClient = 2 }
        let client = try harness.connection()
        _ = try client.connect("c")
        for (index, filter) in ["a", "b", "c", "a"].enumerated() {
            try client.subscribe(filter, qos: .atMostOnce, identifier: UInt16(index + 1))
        }
        let codes = try client.received().compactMap { if case .subAck(let ack) = $0 { ack.reasonCodes } else { nil } }
        // The third filter is refused; subscribing again to one it holds is a replacement.
        #expect(codes == [[0], [0], [ReasonCode.quotaExceeded.rawValue], [0]])
        #expect(harness.broker.snapshot().limitHits["max_subscriptions_per_client"] == 1)
        #expect(harness.broker.snapshot().subscriptions == 2)
    }

    @Test func aSubscribeGetsEveryMatchingRetainedMessage() throws {
        let harness = BrokerHarness()
        for index in 0..<1000 { try retain(harness.broker, "r/\(index)", "x") }
        let client = try harness.connection()
        _ = try client.connect("c")
        try client.subscribe("r/+", qos: .atMostOnce)
        let published = try client.received().filter { if case .publish = $0 { true } else { false } }
        #expect(published.count == 1000)
        #expect(client.isActive)
    }
}
