import AdapterKit
import MQTTCodec
import NIOCore
import Testing
import WharfCore

@testable import Broker

@Suite struct RouterTests {
    /// Each session gets one copy per message, at the highest granted QoS and with every
    /// matching subscription identifier — below and above the size where the router switches
    /// from scanning to indexing its targets.
    @Test(arguments: [3, 40])
    func overlappingSubscriptionsDeliverOnceWithAllIdentifiers(sessions: Int) throws {
        let harness = BrokerHarness()
        var clients: [TestConnection] = []
        for index in 0..<sessions {
            let client = try harness.connection()
            _ = try client.connect("c\(index)")
            var first = MQTTProperties()
            first.subscriptionIdentifiers = [11]
            try client.send(
                .subscribe(
                    SubscribePacket(
                        packetIdentifier: 1,
                        subscriptions: [
                            TopicSubscription(topicFilter: "a/#", options: SubscriptionOptions(qos: .atMostOnce))
                        ],
                        properties: first
                    )
                )
            )
            var second = MQTTProperties()
            second.subscriptionIdentifiers = [22]
            try client.send(
                .subscribe(
                    SubscribePacket(
                        packetIdentifier: 2,
                        subscriptions: [
                            TopicSubscription(topicFilter: "a/+", options: SubscriptionOptions(qos: .atLeastOnce))
                        ],
                        properties: second
                    )
                )
            )
            _ = try client.received()
            clients.append(client)
        }
        let receipt = try harness.broker.publishNow(
            Message(topic: "a/b", payload: ByteBuffer(string: "x"), qos: .exactlyOnce, principal: .adapter("test")))
        #expect(receipt.matchedSubscribers == sessions)
        for client in clients {
            let publishes = try client.received().compactMap { if case .publish(let p) = $0 { p } else { nil } }
            #expect(publishes.count == 1)
            #expect(publishes.first?.qos == .atLeastOnce)
            #expect(publishes.first?.properties.subscriptionIdentifiers.sorted() == [11, 22])
        }
    }

    @Test func noLocalSkipsThePublisherOnly() throws {
        let harness = BrokerHarness()
        let publisher = try harness.connection()
        _ = try publisher.connect("self")
        try publisher.send(
            .subscribe(
                SubscribePacket(
                    packetIdentifier: 1,
                    subscriptions: [
                        TopicSubscription(
                            topicFilter: "loop", options: SubscriptionOptions(qos: .atMostOnce, noLocal: true))
                    ]
                )
            )
        )
        let other = try harness.connection()
        _ = try other.connect("other")
        try other.subscribe("loop", qos: .atMostOnce)
        _ = try publisher.received()
        _ = try other.received()
        try publisher.send(
            .publish(PublishPacket(topic: "loop", payload: ByteBuffer(string: "echo"), qos: .atMostOnce)))
        let own = try publisher.received().filter { if case .publish = $0 { true } else { false } }
        let theirs = try other.received().filter { if case .publish = $0 { true } else { false } }
        #expect(own.isEmpty)
        #expect(theirs.count == 1)
    }

    @Test func sharedGroupDeliversEachMessageToOneMember() throws {
        let harness = BrokerHarness()
        var members: [TestConnection] = []
        for index in 0..<3 {
            let member = try harness.connection()
            _ = try member.connect("member\(index)")
            try member.subscribe("$share/g/jobs/#", qos: .atMostOnce)
            _ = try member.received()
            members.append(member)
        }
        for index in 0..<30 {
            _ = try harness.broker.publishNow(
                Message(topic: "jobs/\(index)", payload: ByteBuffer(string: "\(index)"), principal: .adapter("test")))
        }
        let counts = try members.map { member in
            try member.received().filter { if case .publish = $0 { true } else { false } }.count
        }
        #expect(counts.reduce(0, +) == 30)
        #expect(counts.allSatisfy { $0 == 10 })
    }
}
