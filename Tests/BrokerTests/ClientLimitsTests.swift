import MQTTCodec
import NIOCore
import Synchronization
import Testing
import WharfConfig
import WharfCore

@testable import Broker

/// `max_topic_levels`, `max_client_id_length` and `max_connect_user_properties`.
@Suite struct ClientLimitsTests {
    private func hits(_ harness: BrokerHarness, _ limit: BrokerLimit) -> Int {
        harness.broker.statistics.limitHitCount(limit)
    }

    private func publishes(_ packets: [MQTTPacket]) -> [PublishPacket] {
        packets.compactMap { if case .publish(let p) = $0 { p } else { nil } }
    }

    @Test func topicLevelsCountSeparators() {
        #expect(MQTTConnectionHandler.topicLevels("a") == 1)
        #expect(MQTTConnectionHandler.topicLevels("a/b/c") == 3)
        #expect(MQTTConnectionHandler.topicLevels("/") == 2)
        #expect(MQTTConnectionHandler.topicLevels("a//#") == 3)
        #expect(MQTTConnectionHandler.topicLevels(String(repeating: "/", count: 200)) == 201)
    }

    @Test func defaultsAreSafe() {
        let config = BrokerConfig()
        #expect(config.maxTopicLevels == 200)
        #expect(config.maxClientIDLength == 256)
        #expect(config.maxConnectUserProperties == 32)
    }

    @Test func mqtt5PublishOverTheLimitIsRefusedByItsAcknowledgement() throws {
        let harness = BrokerHarness { $0.maxTopicLevels = 3 }
        let inbox = Inbox()
        _ = try harness.broker.subscribe(filter: "#", qos: .atLeastOnce, principal: .adapter("test")) {
            inbox.append($0)
        }
        let client = try harness.connection()
        _ = try client.connect("deep")
        let payload = ByteBuffer(string: "x")
        try client.send(
            .publish(PublishPacket(topic: "a/b/c", payload: payload, qos: .atLeastOnce, packetIdentifier: 1)))
        try client.send(
            .publish(PublishPacket(topic: "a/b/c/d", payload: payload, qos: .atLeastOnce, packetIdentifier: 2)))
        try client.send(
            .publish(PublishPacket(topic: "a/b/c/d", payload: payload, qos: .exactlyOnce, packetIdentifier: 3)))
        #expect(
            try client.received() == [
                .pubAck(PubAckPacket(packetIdentifier: 1)),
                .pubAck(PubAckPacket(packetIdentifier: 2, reasonCode: .topicNameInvalid)),
                .pubRec(PubAckPacket(packetIdentifier: 3, reasonCode: .topicNameInvalid)),
            ])
        #expect(client.isActive)
        #expect(inbox.topics == ["a/b/c"])
        // The refused QoS 2 flow ended: its identifier takes a new message.
        try client.send(.publish(PublishPacket(topic: "a/b", payload: payload, qos: .exactlyOnce, packetIdentifier: 3)))
        #expect(try client.received() == [.pubRec(PubAckPacket(packetIdentifier: 3))])
        #expect(hits(harness, .topicLevels) == 2)
    }

    @Test func qos0AndMQTT311PublishesOverTheLimitEndTheConnection() throws {
        let harness = BrokerHarness { $0.maxTopicLevels = 3 }
        let v5 = try harness.connection()
        _ = try v5.connect("deep-qos0")
        try v5.send(.publish(PublishPacket(topic: "a/b/c/d", payload: ByteBuffer(), qos: .atMostOnce)))
        let reasons = try v5.received().compactMap { if case .disconnect(let d) = $0 { d.reasonCode } else { nil } }
        #expect(reasons == [.topicNameInvalid])
        #expect(!v5.isActive)

        let v311 = try harness.connection()
        v311.version = .v311
        _ = try v311.connect("deep-311")
        try v311.send(
            .publish(PublishPacket(topic: "a/b/c/d", payload: ByteBuffer(), qos: .atLeastOnce, packetIdentifier: 1)))
        #expect(try v311.received().isEmpty)
        #expect(!v311.isActive)
        #expect(hits(harness, .topicLevels) == 2)
    }

    @Test func filtersOverTheLimitGetAFailureCode() throws {
        let harness = BrokerHarness { $0.maxTopicLevels = 3 }
        let client = try harness.connection()
        _ = try client.connect("deep-filters")
        let options = SubscriptionOptions(
            qos: .atLeastOnce, noLocal: false, retainAsPublished: false, retainHandling: 0)
        try client.send(
            .subscribe(
                SubscribePacket(
                    packetIdentifier: 1,
                    subscriptions: ["a/b/#", "a/b/c/#", "$share/g/a/b/c", "$share/g/a/b/c/d"].map {
                        TopicSubscription(topicFilter: $0, options: options)
                    })))
        #expect(try client.received() == [.subAck(SubAckPacket(packetIdentifier: 1, reasonCodes: [1, 0x8F, 1, 0x8F]))])
        #expect(harness.broker.router.subscriptionCount == 2)
        #expect(hits(harness, .topicLevels) == 2)
    }

    @Test func willOverTheLimitRefusesTheConnection() throws {
        let harness = BrokerHarness { $0.maxTopicLevels = 3 }
        let will = Will(topic: "a/b/c/d", payload: ByteBuffer(string: "gone"), qos: .atMostOnce, retain: false)
        let v5 = try harness.connection()
        let ack = try #require(try v5.connect("deep-will", will: will))
        #expect(ack.reasonCode == ReasonCode.topicNameInvalid.rawValue)
        #expect(!v5.isActive)
        let v311 = try harness.connection()
        v311.version = .v311
        #expect(try v311.connect("deep-will-311", will: will) == nil)
        #expect(!v311.isActive)
        #expect(harness.broker.sessionCount == 0)
        #expect(hits(harness, .topicLevels) == 2)
    }

    @Test func longClientIdentifierIsRefused() throws {
        let harness = BrokerHarness { $0.maxClientIDLength = 30 }
        let fits = try harness.connection()
        #expect(try fits.connect(String(repeating: "x", count: 30))?.reasonCode == 0)
        let long = try harness.connection()
        let ack = try #require(try long.connect(String(repeating: "é", count: 16)))  // 32 bytes
        #expect(ack.reasonCode == ReasonCode.clientIdentifierNotValid.rawValue)
        #expect(!long.isActive)
        let v311 = try harness.connection()
        v311.version = .v311
        #expect(try v311.connect(String(repeating: "y", count: 31))?.reasonCode == 2)
        #expect(hits(harness, .clientIdentifierLength) == 2)
    }

    @Test func tooManyConnectUserPropertiesAreRefused() throws {
        let harness = BrokerHarness { $0.maxConnectUserProperties = 2 }
        var properties = MQTTProperties()
        properties.userProperties = [UserProperty("a", "1"), UserProperty("b", "2")]
        let fits = try harness.connection()
        #expect(try fits.connect("two", properties: properties)?.reasonCode == 0)
        properties.userProperties.append(UserProperty("a", "3"))
        let over = try harness.connection()
        #expect(try over.connect("three", properties: properties)?.reasonCode == ReasonCode.quotaExceeded.rawValue)
        #expect(!over.isActive)
        #expect(hits(harness, .connectUserProperties) == 1)
        #expect(harness.broker.snapshot().limitHits["max_connect_user_properties"] == 1)
    }
}
