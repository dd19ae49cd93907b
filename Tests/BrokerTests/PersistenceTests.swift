import MQTTCodec
import NIOCore
import NIOEmbedded
import Synchronization
import Testing
import WharfCore

@testable import Broker

#if canImport(Glibc)
    import Glibc
#endif

/// Records what the broker asks to persist; message writes complete when the test says so.
final class RecordingStore: SessionStore {
    struct State {
        var log: [String] = []
        var nextID: Int64 = 1
        var pending: [@Sendable (DurableOutcome) -> Void] = []
        var messages: [Int64: StoredMessage] = [:]
    }

    let state = Mutex(State())
    /// When false, message writes complete at once.
    let holdWrites: Bool
    /// Retained writes of the payloads it accepts dawdle before they are recorded, as a thread
    /// preempted at the wrong moment would.
    let isSlowRetained: (@Sendable (String) -> Bool)?

    init(holdWrites: Bool = false, isSlowRetained: (@Sendable (String) -> Bool)? = nil) {
        self.holdWrites = holdWrites
        self.isSlowRetained = isSlowRetained
    }

    var log: [String] { state.withLock { $0.log } }
    var storedMessageIDs: [Int64] { state.withLock { $0.messages.keys.sorted() } }

    func completeWrites() {
        let pending = state.withLock { state in
            defer { state.pending.removeAll() }
            return state.pending
        }
        for completion in pending { completion(.stored) }
    }

    func saveSession(clientIdentifier: String, expiryInterval: UInt32, disconnectedAt: Int64?, owner: String?) {
        state.withLock {
            $0.log.append("session \(clientIdentifier) \(expiryInterval) \(disconnectedAt == nil ? "up" : "down")")
        }
    }

    func saveInboundQoS2(
        clientIdentifier: String,
        packetIdentifier: UInt16,
        completion: @escaping @Sendable (DurableOutcome) -> Void
    ) {
        state.withLock { $0.log.append("inbound \(clientIdentifier) \(packetIdentifier)") }
        completion(.stored)
    }

    func deleteInboundQoS2(clientIdentifier: String, packetIdentifier: UInt16) {
        state.withLock { $0.log.append("inbound released \(clientIdentifier) \(packetIdentifier)") }
    }

    func deleteSession(clientIdentifier: String) {
        state.withLock { $0.log.append("end \(clientIdentifier)") }
    }

    func saveSubscription(clientIdentifier: String, _ subscription: StoredSubscription) {
        state.withLock { $0.log.append("sub \(clientIdentifier) \(subscription.filter)") }
    }

    func deleteSubscription(clientIdentifier: String, filter: String) {
        state.withLock { $0.log.append("unsub \(clientIdentifier) \(filter)") }
    }

    func saveMessage(
        clientIdentifier: String,
        _ message: StoredMessage,
        completion: (@Sendable (DurableOutcome) -> Void)?
    ) -> Int64 {
        let id = state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            state.messages[id] = message
            state.log.append("msg \(clientIdentifier) \(message.message.topic)")
            if let completion, holdWrites { state.pending.append(completion) }
            return id
        }
        if let completion, !holdWrites { completion(.stored) }
        return id
    }

    func markReleased(clientIdentifier: String, id: Int64, packetIdentifier: UInt16) {
        state.withLock { $0.log.append("released \(id)") }
    }

    func markSent(clientIdentifier: String, id: Int64, packetIdentifier: UInt16) {
        state.withLock { $0.log.append("sent \(id) as \(packetIdentifier)") }
    }

    func deleteMessage(clientIdentifier: String, id: Int64) {
        state.withLock { state in
            state.messages.removeValue(forKey: id)
            state.log.append("forget \(id)")
        }
    }

    func saveRetained(_ message: Message, completion: (@Sendable (DurableOutcome) -> Void)?) {
        if isSlowRetained?(String(buffer: message.payload)) == true { usleep(300) }
        state.withLock { $0.log.append("retain \(message.topic) \(String(buffer: message.payload))") }
        completion?(.stored)
    }
}

@Suite struct PersistenceTests {
    @Test func publisherAckWaitsForTheOfflineSubscribersStoredCopy() throws {
        let store = RecordingStore(holdWrites: true)
        let harness = BrokerHarness(store: store)
        let subscriber = try harness.connection()
        _ = try subscriber.connect("sub", sessionExpiry: 3600)
        try subscriber.subscribe("t/#", qos: .atLeastOnce)
        try subscriber.channel.close().wait()
        #expect(store.log == ["session sub 3600 up", "sub sub t/#", "session sub 3600 down"])

        let publisher = try harness.connection()
        _ = try publisher.connect("pub")
        try publisher.send(
            .publish(
                PublishPacket(topic: "t/1", payload: ByteBuffer(string: "x"), qos: .atLeastOnce, packetIdentifier: 1)))
        #expect(try publisher.received().isEmpty)
        store.completeWrites()
        harness.loop.run()
        let acks = try publisher.received().compactMap {
            if case .pubAck(let ack) = $0 { ack.packetIdentifier } else { nil }
        }
        #expect(acks == [1])
    }

    @Test func acknowledgedMessagesAreForgotten() throws {
        let store = RecordingStore()
        let harness = BrokerHarness(store: store)
        let subscriber = try harness.connection()
        _ = try subscriber.connect("sub", sessionExpiry: 60)
        try subscriber.subscribe("t", qos: .exactlyOnce)
        _ = try subscriber.received()
        _ = try harness.broker.publishNow(
            Message(topic: "t", payload: ByteBuffer(string: "x"), qos: .exactlyOnce, principal: .adapter("test")))
        let publish = try #require(
            try subscriber.received().compactMap { if case .publish(let p) = $0 { p } else { nil } }.first)
        let identifier = try #require(publish.packetIdentifier)
        #expect(store.storedMessageIDs == [1])
        try subscriber.send(.pubRec(PubAckPacket(packetIdentifier: identifier)))
        #expect(store.log.contains("released 1"))
        try subscriber.send(.pubComp(PubAckPacket(packetIdentifier: identifier)))
        #expect(store.storedMessageIDs.isEmpty)
    }

    @Test func cleanSessionsAreNotPersisted() throws {
        let store = RecordingStore()
        let harness = BrokerHarness(store: store)
        let client = try harness.connection()
        _ = try client.connect("clean")
        try client.subscribe("t", qos: .atLeastOnce)
        _ = try harness.broker.publishNow(
            Message(topic: "t", payload: ByteBuffer(string: "x"), qos: .atLeastOnce, principal: .adapter("test")))
        try client.channel.close().wait()
        #expect(store.log.isEmpty)
    }

    @Test func restoredSessionResumesWithItsMessages() throws {
        let harness = BrokerHarness(store: RecordingStore())
        let wall = SystemWallClock().millisecondsSinceEpoch()
        harness.broker.restore(
            sessions: [
                RestoredSession(
                    clientIdentifier: "back",
                    expiryInterval: 3600,
                    disconnectedAt: wall - 1000,
                    subscriptions: [
                        StoredSubscription(
                            filter: "t/#", options: SubscriptionOptions(qos: .atLeastOnce), identifier: nil)
                    ],
                    messages: [
                        StoredMessage(
                            id: 7,
                            message: Message(
                                topic: "t/a", payload: ByteBuffer(string: "kept"), qos: .atLeastOnce,
                                principal: .adapter("test")),
                            qos: .atLeastOnce,
                            retain: false,
                            subscriptionIdentifiers: [],
                            receivedAtWall: wall - 2000
                        )
                    ]
                )
            ],
            retained: [
                Message(topic: "r", payload: ByteBuffer(string: "held"), retain: true, principal: .adapter("test"))
            ]
        )
        let client = try harness.connection()
        let ack = try #require(try client.connect("back", cleanStart: false, sessionExpiry: 3600))
        #expect(ack.sessionPresent)
        let payloads = try client.received().compactMap {
            if case .publish(let p) = $0 { String(buffer: p.payload) } else { nil }
        }
        #expect(payloads == ["kept"])
        _ = try harness.broker.publishNow(
            Message(topic: "t/b", payload: ByteBuffer(string: "live"), qos: .atLeastOnce, principal: .adapter("test")))
        let live = try client.received().compactMap {
            if case .publish(let p) = $0 { String(buffer: p.payload) } else { nil }
        }
        #expect(live == ["live"])
        #expect(harness.broker.router.retained.count == 1)
    }

    @Test func endingASessionDeletesIt() throws {
        let store = RecordingStore()
        let harness = BrokerHarness(store: store)
        let client = try harness.connection()
        _ = try client.connect("short", sessionExpiry: 5)
        try client.channel.close().wait()
        harness.clock.advance(seconds: 5)
        harness.broker.sweep()
        #expect(store.log.last == "end short")
    }
}

@Suite struct RestoreAgingTests {
    /// The manual clock starts near zero like a freshly started process's monotonic clock, so
    /// these show that downtime before the process began still counts.
    @Test func downtimeCountsAgainstSessionExpiry() throws {
        let harness = BrokerHarness(store: RecordingStore())
        let wall = SystemWallClock().millisecondsSinceEpoch()
        harness.broker.restore(
            sessions: [
                RestoredSession(
                    clientIdentifier: "gone", expiryInterval: 3, disconnectedAt: wall - 10_000, subscriptions: [],
                    messages: []),
                RestoredSession(
                    clientIdentifier: "kept", expiryInterval: 60, disconnectedAt: wall - 10_000, subscriptions: [],
                    messages: []),
            ],
            retained: []
        )
        harness.broker.sweep()
        #expect(harness.broker.sessionCount == 1)
        let client = try harness.connection()
        let ack = try #require(try client.connect("kept", cleanStart: false, sessionExpiry: 60))
        #expect(ack.sessionPresent)
    }

    @Test func downtimeCountsAgainstMessageExpiry() throws {
        let store = RecordingStore()
        let harness = BrokerHarness(store: store)
        let wall = SystemWallClock().millisecondsSinceEpoch()
        func stored(_ id: Int64, expiry: UInt32) -> StoredMessage {
            var properties = MessageProperties()
            properties.messageExpiryInterval = expiry
            return StoredMessage(
                id: id,
                message: Message(
                    topic: "t", payload: ByteBuffer(string: "\(expiry)"), qos: .atLeastOnce, properties: properties,
                    principal: .adapter("test")),
                qos: .atLeastOnce,
                retain: false,
                subscriptionIdentifiers: [],
                receivedAtWall: wall - 3_000
            )
        }
        harness.broker.restore(
            sessions: [
                RestoredSession(
                    clientIdentifier: "s",
                    expiryInterval: 600,
                    disconnectedAt: wall - 3_000,
                    subscriptions: [],
                    messages: [stored(1, expiry: 2), stored(2, expiry: 60)]
                )
            ],
            retained: []
        )
        #expect(store.log.contains("forget 1"))
        let client = try harness.connection()
        _ = try client.connect("s", cleanStart: false, sessionExpiry: 600)
        let publishes = try client.received().compactMap { if case .publish(let p) = $0 { p } else { nil } }
        #expect(publishes.map { String(buffer: $0.payload) } == ["60"])
        let remaining = try #require(publishes.first?.properties.messageExpiryInterval)
        #expect((56...57).contains(remaining))
    }
}

/// QoS 2 exactly-once across a restart: a message the client may already hold comes back under
/// its identifier with DUP, never as a new message.
@Suite struct QoS2RestartTests {
    @Test func sendingAStoredQoS2MessageRecordsItsIdentifier() throws {
        let store = RecordingStore()
        let harness = BrokerHarness(store: store)
        let subscriber = try harness.connection()
        _ = try subscriber.connect("sub", sessionExpiry: 60)
        try subscriber.subscribe("t", qos: .exactlyOnce)
        _ = try subscriber.received()
        _ = try harness.broker.publishNow(
            Message(topic: "t", payload: ByteBuffer(string: "x"), qos: .exactlyOnce, principal: .adapter("test")))
        let publish = try #require(
            try subscriber.received().compactMap { if case .publish(let p) = $0 { p } else { nil } }.first)
        let identifier = try #require(publish.packetIdentifier)
        #expect(store.log.contains("sent 1 as \(identifier)"))
    }

    @Test func aSentQoS2MessageIsResentWithDUPUnderItsIdentifier() throws {
        let harness = BrokerHarness(store: RecordingStore())
        let wall = SystemWallClock().millisecondsSinceEpoch()
        var properties = MessageProperties()
        properties.messageExpiryInterval = 1  // long gone, but it was sent: it completes anyway
        func stored(_ id: Int64, _ text: String, sent: UInt16?) -> StoredMessage {
            StoredMessage(
                id: id,
                message: Message(
                    topic: "t", payload: ByteBuffer(string: text), qos: .exactlyOnce,
                    properties: sent == nil ? MessageProperties() : properties, principal: .adapter("test")),
                qos: .exactlyOnce,
                retain: false,
                subscriptionIdentifiers: [],
                receivedAtWall: wall - 10_000,
                sentPacketIdentifier: sent
            )
        }
        harness.broker.restore(
            sessions: [
                RestoredSession(
                    clientIdentifier: "q2",
                    expiryInterval: 600,
                    disconnectedAt: wall - 5_000,
                    subscriptions: [],
                    messages: [stored(1, "sent", sent: 42), stored(2, "queued", sent: nil)]
                )
            ],
            retained: []
        )
        let client = try harness.connection()
        _ = try client.connect("q2", cleanStart: false, sessionExpiry: 600)
        let publishes = try client.received().compactMap { if case .publish(let p) = $0 { p } else { nil } }
        #expect(publishes.map { String(buffer: $0.payload) } == ["sent", "queued"])
        #expect(publishes.first?.packetIdentifier == 42)
        #expect(publishes.first?.dup == true)
        #expect(publishes.last?.dup == false)
        #expect(publishes.last?.packetIdentifier != 42)
    }
}
