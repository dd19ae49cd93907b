import AdapterKit
import NIOCore
import Testing
import WharfCore

@testable import Broker

/// `MessageBus.retainedMessages(matching:principal:)`, which the CoAP adapter uses to answer a GET.
@Suite struct RetainedLookupTests {
    @Test func returnsRetainedMessagesUnderTheFilterSortedByTopic() throws {
        let harness = BrokerHarness()
        for topic in ["b/2", "a/1", "c/3"] {
            _ = try harness.broker.publishNow(
                Message(topic: topic, payload: ByteBuffer(string: topic), retain: true, principal: .adapter("test")))
        }
        _ = try harness.broker.publishNow(
            Message(topic: "a/live", payload: ByteBuffer(string: "x"), principal: .adapter("test")))
        #expect(
            try harness.broker.retainedMessages(matching: "#", principal: .adapter("test")).map(\.topic) == [
                "a/1", "b/2", "c/3",
            ])
        #expect(
            try harness.broker.retainedMessages(matching: "a/+", principal: .adapter("test")).map(\.topic) == ["a/1"])
        #expect(throws: SubscribeError.self) {
            try harness.broker.retainedMessages(matching: "a/#/x", principal: .adapter("test"))
        }
    }

    @Test func leavesOutExpiredMessages() throws {
        let harness = BrokerHarness()
        var properties = MessageProperties()
        properties.messageExpiryInterval = 5
        _ = try harness.broker.publishNow(
            Message(
                topic: "t", payload: ByteBuffer(string: "v"), retain: true, properties: properties,
                principal: .adapter("test")))
        #expect(try harness.broker.retainedMessages(matching: "t", principal: .adapter("test")).count == 1)
        harness.clock.advance(seconds: 6)
        #expect(try harness.broker.retainedMessages(matching: "t", principal: .adapter("test")).isEmpty)
    }
}
