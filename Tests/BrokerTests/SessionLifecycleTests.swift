import Dispatch
import MQTTCodec
import NIOCore
import NIOEmbedded
import Synchronization
import Testing
import WharfAuth
import WharfConfig
import WharfCore

@testable import Broker

/// Every way a connection ends leaves its session released (a clean session ended, its
/// subscriptions gone from the router and its memory freed; a persistent one detached), and
/// Session Present says exactly whether a session was resumed.
@Suite struct SessionLifecycleTests {
    /// The ways a connection ends, as a hostile or broken client (or the broker) causes them.
    enum Ending: String, CaseIterable, CustomTestStringConvertible {
        case disconnect, peerClosed, protocolError, secondConnect, malformedBytes, keepAliveExpired
        case errorCaught, serverShutdown, takenOver

        var testDescription: String { rawValue }

        func apply(to client: TestConnection, harness: BrokerHarness) throws {
            switch self {
            case .disconnect:
                try client.send(.disconnect(DisconnectPacket()))
            case .peerClosed:
                try client.channel.close().wait()
            case .protocolError:
                try client.send(.pingResp)
            case .secondConnect:
                try client.send(.connect(ConnectPacket(protocolVersion: client.version, clientIdentifier: "c")))
            case .malformedBytes:
                try client.channel.writeInbound(ByteBuffer(bytes: [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]))
            case .keepAliveExpired:
                harness.loop.advanceTime(by: .seconds(3))
            case .errorCaught:
                client.channel.pipeline.fireErrorCaught(ChannelError.ioOnClosedChannel)
            case .serverShutdown:
                harness.broker.disconnectAll()
            case .takenOver:
                let other = try harness.connection()
                other.version = client.version
                _ = try other.connect("c", cleanStart: true)
            }
            harness.loop.run()
        }
    }

    private func publish(_ harness: BrokerHarness, _ topic: String, qos: QoS = .atLeastOnce) throws {
        _ = try harness.broker.publishNow(
            Message(topic: topic, payload: ByteBuffer(string: "x"), qos: qos, principal: .uplink))
    }

    @Test(arguments: Ending.allCases, [MQTTProtocolVersion.v311, .v5])
    func aCleanSessionEndsWithItsConnection(_ ending: Ending, _ version: MQTTProtocolVersion) throws {
        let harness = BrokerHarness()
        let client = try harness.connection()
        client.version = version
        #expect(try client.connect("c", cleanStart: true, keepAlive: 1)?.reasonCode == 0)
        try client.subscribe("t/#", qos: .atLeastOnce)
        _ = try client.received()
        try ending.apply(to: client, harness: harness)
        #expect(!client.isActive)

        let snapshot = harness.broker.snapshot()
        let expectedSessions = ending == .takenOver ? 1 : 0
        #expect(snapshot.clientsConnected == expectedSessions)
        #expect(snapshot.sessions == expectedSessions)
        #expect(snapshot.subscriptions == 0)
        // Nothing reaches a session that is gone: no deliveries, no drops counted for it.
        try publish(harness, "t/1")
        try publish(harness, "t/2", qos: .atMostOnce)
        #expect(harness.broker.snapshot().dropped.values.reduce(0, +) == 0)
    }

    @Test(arguments: Ending.allCases.filter { $0 != .takenOver })
    func aPersistentSessionIsDetachedAndKeepsItsQueueBounded(_ ending: Ending) throws {
        let harness = BrokerHarness { $0.maxQueuedMessages = 5 }
        let client = try harness.connection()
        client.version = .v311
        #expect(try client.connect("c", cleanStart: false, keepAlive: 1)?.reasonCode == 0)
        try client.subscribe("t/#", qos: .atLeastOnce)
        _ = try client.received()
        try ending.apply(to: client, harness: harness)

        #expect(harness.broker.snapshot().clientsConnected == 0)
        #expect(harness.broker.snapshot().sessions == 1)
        let session = try #require(harness.broker.sessions.withLock { $0["c"] })
        #expect(session.core.withLock { $0.attachment == nil && !$0.state.isConnected && $0.pending.isEmpty })
        for index in 0..<20 { try publish(harness, "t/\(index)") }
        #expect(session.core.withLock { $0.state.queue.count } == 5)
        #expect(harness.broker.snapshot().dropped["queue-full"] == 15)
    }

    @Test func refusedConnectsKeepNoSession() throws {
        let harness = BrokerHarness()
        let client = try harness.connection()
        client.version = .v311
        // An empty client id with clean session 0 (MQTT 3.1.1 §3.1.3.1: identifier rejected).
        #expect(try client.connect("", cleanStart: false)?.reasonCode == 2)
        #expect(!client.isActive)
        #expect(harness.broker.snapshot().sessions == 0)
        #expect(harness.broker.snapshot().clientsConnected == 0)
    }

    @Test(arguments: [MQTTProtocolVersion.v311, .v5])
    func takingOverAConnectedCleanSessionPresentsNoSession(_ version: MQTTProtocolVersion) throws {
        let harness = BrokerHarness()
        let first = try harness.connection()
        first.version = version
        _ = try first.connect("c", cleanStart: true)
        try first.subscribe("t/#", qos: .atLeastOnce)
        _ = try first.received()

        let second = try harness.connection()
        second.version = version
        // Clean start 0 and a long expiry ask for the session, but a clean session's state ends
        // with its connection: nothing was kept, so nothing is presented.
        let ack = try second.connect("c", cleanStart: false, sessionExpiry: version == .v5 ? 600 : nil)
        #expect(ack?.sessionPresent == false)
        #expect(!first.isActive)
        #expect(harness.broker.snapshot().subscriptions == 0)
        try publish(harness, "t/1")
        #expect(try second.received().isEmpty)
    }

    @Test func resumingAPersistentSessionPresentsIt() throws {
        let harness = BrokerHarness()
        let first = try harness.connection()
        _ = try first.connect("c", cleanStart: true, sessionExpiry: 600)
        try first.subscribe("t/#", qos: .atLeastOnce)
        _ = try first.received()
        try first.channel.close().wait()
        harness.loop.run()
        try publish(harness, "t/1")

        let second = try harness.connection()
        #expect(try second.connect("c", cleanStart: false, sessionExpiry: 600)?.sessionPresent == true)
        let topics = try second.received().compactMap { if case .publish(let p) = $0 { p.topic } else { nil } }
        #expect(topics == ["t/1"])
    }

    // MARK: Owners

    /// CONNECT with a user name and a session expiry of ten minutes; the CONNACK, and the
    /// topics of the messages that came with it.
    private func connect(
        _ client: TestConnection,
        _ id: String,
        username: String?,
        cleanStart: Bool = false
    ) throws -> ConnAckPacket? {
        try connectReceiving(client, id, username: username, cleanStart: cleanStart).ack
    }

    private func connectReceiving(
        _ client: TestConnection,
        _ id: String,
        username: String?,
        cleanStart: Bool = false
    ) throws -> (ack: ConnAckPacket?, topics: [String]) {
        var properties = MQTTProperties()
        properties.sessionExpiryInterval = 600
        try client.send(
            .connect(
                ConnectPacket(clientIdentifier: id, cleanStart: cleanStart, username: username, properties: properties)
            ))
        let packets = try client.received()
        return (
            packets.compactMap { if case .connAck(let ack) = $0 { ack } else { nil } }.first,
            packets.compactMap { if case .publish(let publish) = $0 { publish.topic } else { nil } }
        )
    }

    @Test func anotherUserCannotResumeOrTakeOverASession() throws {
        let harness = BrokerHarness()
        let alice = try harness.connection()
        #expect(try connect(alice, "plc", username: "alice")?.reasonCode == 0)
        try alice.subscribe("t/#", qos: .atLeastOnce)
        _ = try alice.received()

        // While alice is connected: bob may not take her client id over.
        let bob = try harness.connection()
        #expect(try connect(bob, "plc", username: "bob")?.reasonCode == ReasonCode.notAuthorized.rawValue)
        #expect(alice.isActive)
        let anonymous = try harness.connection()
        #expect(try connect(anonymous, "plc", username: nil)?.reasonCode == ReasonCode.notAuthorized.rawValue)

        // Nor resume it while she is away; her queued message waits for her.
        try alice.channel.close().wait()
        harness.loop.run()
        try publish(harness, "t/1")
        let mallory = try harness.connection()
        #expect(try connect(mallory, "plc", username: "mallory")?.reasonCode == ReasonCode.notAuthorized.rawValue)
        let back = try harness.connection()
        let (ack, topics) = try connectReceiving(back, "plc", username: "alice")
        #expect(ack?.reasonCode == 0)
        #expect(ack?.sessionPresent == true)
        #expect(topics == ["t/1"])
    }

    @Test func anotherUserMayStartAfreshWhenConfigured() throws {
        let harness = BrokerHarness { $0.sessionOwnerChange = .newSession }
        let alice = try harness.connection()
        _ = try connect(alice, "plc", username: "alice")
        try alice.subscribe("t/#", qos: .atLeastOnce)
        _ = try alice.received()
        try alice.channel.close().wait()
        harness.loop.run()
        try publish(harness, "t/1")

        let bob = try harness.connection()
        let ack = try connect(bob, "plc", username: "bob")
        #expect(ack?.reasonCode == 0)
        #expect(ack?.sessionPresent == false)
        #expect(try bob.received().isEmpty)
        #expect(harness.broker.snapshot().subscriptions == 0)
    }

    @Test func usernamesCanBeTheClientIds() throws {
        let harness = BrokerHarness { $0.useUsernameAsClientID = true }
        let alice = try harness.connection()
        let ack = try connect(alice, "whatever", username: "alice")
        #expect(ack?.properties.assignedClientIdentifier == "alice")
        #expect(harness.broker.sessions.withLock { Array($0.keys) } == ["alice"])
    }

    @Test func theSessionCountIsBounded() throws {
        let harness = BrokerHarness { $0.maxSessions = 2 }
        for id in ["a", "b"] {
            let client = try harness.connection()
            #expect(try connect(client, id, username: nil)?.reasonCode == 0)
        }
        let third = try harness.connection()
        #expect(try connect(third, "c", username: nil)?.reasonCode == ReasonCode.quotaExceeded.rawValue)
        #expect(harness.broker.snapshot().limitHits["max_sessions"] == 1)
        // An existing session is still resumed.
        let again = try harness.connection()
        #expect(try connect(again, "a", username: nil)?.reasonCode == 0)
    }

    // MARK: Access changes

    @Test func anACLReloadDropsWhatWasQueuedForAClientThatMayNoLongerReadIt() throws {
        let harness = BrokerHarness()
        let uplink = "user wharf:uplink\ntopic write #\n"
        let open = try AccessControlList(parsing: uplink + "user alice\ntopic read t/#\n", file: "acl")
        harness.broker.updateAccessControl(AccessControl(allowAnonymous: true, acl: open))
        let alice = try harness.connection()
        _ = try connect(alice, "plc", username: "alice")
        try alice.subscribe("t/#", qos: .atLeastOnce)
        _ = try alice.received()
        try alice.channel.close().wait()
        harness.loop.run()
        try publish(harness, "t/secret/1")
        try publish(harness, "t/public/1")

        let narrowed = try AccessControlList(parsing: uplink + "user alice\ntopic read t/public/#\n", file: "acl")
        harness.broker.updateAccessControl(AccessControl(allowAnonymous: true, acl: narrowed))
        #expect(harness.broker.snapshot().dropped["not-authorized"] == 1)

        let back = try harness.connection()
        #expect(try connectReceiving(back, "plc", username: "alice").topics == ["t/public/1"])
    }
}

/// A connection letting go of its session while another CONNECT resumes it: the new
/// connection never ends up bound to a session that was ended.
@Suite struct SessionClaimRaceTests {
    private func request(_ harness: BrokerHarness, cleanStart: Bool) -> MQTTBroker.SessionRequest {
        MQTTBroker.SessionRequest(
            clientIdentifier: "c",
            cleanStart: cleanStart,
            principal: .client(username: nil, clientIdentifier: "c", listener: "test"),
            expiry: 0,
            attachment: Session.Attachment(
                channel: EmbeddedChannel(loop: harness.loop), version: .v5, generation: 0,
                maximumPacketSize: 268_435_460),
            receiveMaximum: 65_535
        )
    }

    @Test func aReleaseRacingAResumeNeverLeavesTheResumeOnAnEndedSession() throws {
        for _ in 0..<2000 {
            let harness = BrokerHarness()
            let broker = harness.broker
            guard case .success(let first) = broker.claimSession(request(harness, cleanStart: true), now: 0) else {
                Issue.record("the first claim failed")
                return
            }
            let second = Mutex<MQTTBroker.SessionClaim?>(nil)
            let resume = request(harness, cleanStart: false)
            DispatchQueue.concurrentPerform(iterations: 2) { index in
                if index == 0 {
                    broker.release(first.session, generation: first.generation, will: nil, willDelay: 0)
                } else if case .success(let claim) = broker.claimSession(resume, now: 0) {
                    second.withLock { $0 = claim }
                }
            }
            let claim = try #require(second.withLock { $0 })
            let (ended, generation) = claim.session.core.withLock { ($0.ended, $0.attachment?.generation) }
            #expect(!ended)
            #expect(generation == claim.generation)
            #expect(broker.sessions.withLock { $0["c"] } === claim.session)
            if ended { return }
        }
    }
}
