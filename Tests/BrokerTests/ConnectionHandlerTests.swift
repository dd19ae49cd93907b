import MQTTCodec
import NIOCore
import NIOEmbedded
import Synchronization
import Testing
import WharfConfig
import WharfCore

@testable import Broker

@Suite struct ConnectionHandlerTests {
    @Test func connAckAnnouncesTheConfiguredLimits() throws {
        let harness = BrokerHarness { config in
            config.maxInflightMessages = 7
            config.maxPacketSize = 4096
            config.maxTopicAlias = 3
            config.retainAvailable = false
        }
        let client = try harness.connection()
        let ack = try #require(try client.connect("limits"))
        #expect(ack.reasonCode == 0)
        #expect(ack.properties.receiveMaximum == 7)
        #expect(ack.properties.maximumPacketSize == 4096)
        #expect(ack.properties.topicAliasMaximum == 3)
        #expect(ack.properties.retainAvailable == 0)
    }

    @Test func emptyClientIdentifierIsAssignedForMQTT5() throws {
        let harness = BrokerHarness()
        let client = try harness.connection()
        let ack = try #require(try client.connect(""))
        let assigned = try #require(ack.properties.assignedClientIdentifier)
        #expect(assigned.hasPrefix("wharf-"))
    }

    @Test func emptyClientIdentifierWithPersistentSessionIsRefusedFor311() throws {
        let harness = BrokerHarness()
        let client = try harness.connection()
        client.version = .v311
        let ack = try #require(try client.connect("", cleanStart: false))
        #expect(ack.reasonCode == 2)
        #expect(!client.isActive)
    }

    @Test func keepAliveClosesASilentClientAfterOneAndAHalfIntervals() throws {
        let harness = BrokerHarness()
        let client = try harness.connection()
        _ = try client.connect("sleepy", keepAlive: 2)
        harness.loop.advanceTime(by: .milliseconds(2900))
        #expect(client.isActive)
        try client.send(.pingReq)
        harness.loop.advanceTime(by: .milliseconds(2900))
        #expect(client.isActive)
        harness.loop.advanceTime(by: .milliseconds(200))
        #expect(!client.isActive)
        let packets = try client.received()
        let reasons = packets.compactMap { if case .disconnect(let d) = $0 { d.reasonCode } else { nil } }
        #expect(reasons == [.keepAliveTimeout])
    }

    @Test func connectionWithoutConnectIsClosedAfterTheTimeout() throws {
        let harness = BrokerHarness()
        let client = try harness.connection()
        harness.loop.advanceTime(by: MQTTConnectionHandler.connectTimeout - .milliseconds(1))
        #expect(client.isActive)
        harness.loop.advanceTime(by: .milliseconds(2))
        #expect(!client.isActive)
    }

    @Test func delayedWillIsPublishedWhenItsDelayPasses() throws {
        let harness = BrokerHarness()
        let inbox = Inbox()
        _ = try harness.broker.subscribe(filter: "will/#", qos: .atLeastOnce, principal: .adapter("test")) {
            inbox.append($0)
        }
        let client = try harness.connection()
        var willProperties = MQTTProperties()
        willProperties.willDelayInterval = 5
        let will = Will(
            topic: "will/dev1",
            payload: ByteBuffer(string: "gone"),
            qos: .atLeastOnce,
            retain: false,
            properties: willProperties
        )
        _ = try client.connect("dev1", sessionExpiry: 60, will: will)
        try client.channel.close().wait()
        harness.loop.run()
        harness.broker.sweep()
        #expect(inbox.topics.isEmpty)
        harness.clock.advance(seconds: 4)
        harness.broker.sweep()
        #expect(inbox.topics.isEmpty)
        harness.clock.advance(seconds: 1)
        harness.broker.sweep()
        #expect(inbox.payloads == ["gone"])
    }

    @Test func reconnectingInTimeCancelsTheDelayedWill() throws {
        let harness = BrokerHarness()
        let inbox = Inbox()
        _ = try harness.broker.subscribe(filter: "will/#", qos: .atLeastOnce, principal: .adapter("test")) {
            inbox.append($0)
        }
        var willProperties = MQTTProperties()
        willProperties.willDelayInterval = 5
        let will = Will(
            topic: "will/x", payload: ByteBuffer(string: "gone"), qos: .atMostOnce, retain: false,
            properties: willProperties)
        let first = try harness.connection()
        _ = try first.connect("dev2", sessionExpiry: 60, will: will)
        try first.channel.close().wait()
        harness.clock.advance(seconds: 2)
        let second = try harness.connection()
        let ack = try #require(try second.connect("dev2", cleanStart: false, sessionExpiry: 60))
        #expect(ack.sessionPresent)
        harness.clock.advance(seconds: 10)
        harness.broker.sweep()
        #expect(inbox.topics.isEmpty)
    }

    @Test func normalDisconnectDiscardsTheWill() throws {
        let harness = BrokerHarness()
        let inbox = Inbox()
        _ = try harness.broker.subscribe(filter: "will/#", qos: .atLeastOnce, principal: .adapter("test")) {
            inbox.append($0)
        }
        let client = try harness.connection()
        let will = Will(topic: "will/y", payload: ByteBuffer(string: "gone"), qos: .atMostOnce, retain: false)
        _ = try client.connect("dev3", will: will)
        try client.send(.disconnect(DisconnectPacket()))
        harness.loop.run()
        #expect(!client.isActive)
        #expect(inbox.topics.isEmpty)
    }

    @Test func sessionExpiresAfterItsInterval() throws {
        let harness = BrokerHarness()
        let client = try harness.connection()
        _ = try client.connect("keeper", sessionExpiry: 10)
        try client.subscribe("a/b", qos: .atLeastOnce)
        try client.channel.close().wait()
        harness.clock.advance(seconds: 9)
        harness.broker.sweep()
        #expect(harness.broker.sessionCount == 1)
        harness.clock.advance(seconds: 1)
        harness.broker.sweep()
        #expect(harness.broker.sessionCount == 0)
        #expect(harness.broker.router.subscriptionCount == 0)
        #expect(harness.broker.statistics.sessionsExpired.load(ordering: .relaxed) == 1)
    }

    @Test func unacknowledgedQoS1IsRedeliveredWithDupAfterReconnect() throws {
        let harness = BrokerHarness()
        let subscriber = try harness.connection()
        _ = try subscriber.connect("sub", sessionExpiry: 300)
        try subscriber.subscribe("t", qos: .atLeastOnce)
        _ = try subscriber.received()
        _ = try harness.broker.publishNow(
            Message(topic: "t", payload: ByteBuffer(string: "m1"), qos: .atLeastOnce, principal: .adapter("test")))
        let first = try subscriber.received().compactMap { if case .publish(let p) = $0 { p } else { nil } }
        #expect(first.map(\.dup) == [false])
        try subscriber.channel.close().wait()

        let again = try harness.connection()
        let ack = try #require(try again.connect("sub", cleanStart: false, sessionExpiry: 300))
        #expect(ack.sessionPresent)
        let redelivered = try again.received().compactMap { if case .publish(let p) = $0 { p } else { nil } }
        #expect(redelivered.map(\.dup) == [true])
        #expect(redelivered.first?.packetIdentifier == first.first?.packetIdentifier)
    }

    @Test func secondConnectionTakesTheSessionOver() throws {
        let harness = BrokerHarness()
        let first = try harness.connection()
        _ = try first.connect("same", sessionExpiry: 60)
        let second = try harness.connection()
        let ack = try #require(try second.connect("same", cleanStart: false, sessionExpiry: 60))
        #expect(ack.sessionPresent)
        let packets = try first.received()
        let reasons = packets.compactMap { if case .disconnect(let d) = $0 { d.reasonCode } else { nil } }
        #expect(reasons == [.sessionTakenOver])
        #expect(!first.isActive)
        #expect(second.isActive)
    }

    @Test func clientsMayNotPublishIntoSys() throws {
        let harness = BrokerHarness()
        let inbox = Inbox()
        _ = try harness.broker.subscribe(filter: "$SYS/#", qos: .atMostOnce, principal: .adapter("test")) {
            inbox.append($0)
        }
        let client = try harness.connection()
        _ = try client.connect("intruder")
        try client.send(
            .publish(PublishPacket(topic: "$SYS/broker/version", payload: ByteBuffer(string: "fake"), qos: .atMostOnce))
        )
        #expect(inbox.topics.isEmpty)
        #expect(client.isActive)
    }

    @Test func secondConnectIsAProtocolError() throws {
        let harness = BrokerHarness()
        let client = try harness.connection()
        _ = try client.connect("twice")
        try client.send(.connect(ConnectPacket(protocolVersion: .v5, clientIdentifier: "twice")))
        let reasons = try client.received().compactMap { if case .disconnect(let d) = $0 { d.reasonCode } else { nil } }
        #expect(reasons == [.protocolError])
        #expect(!client.isActive)
    }
}
