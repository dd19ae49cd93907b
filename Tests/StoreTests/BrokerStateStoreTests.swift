import Logging
import NIOCore
import Synchronization
import Testing
import WharfCore

@testable import Store

@Suite struct BrokerStateStoreTests {
    static let properties = MessageProperties(messageExpiryInterval: 30, userProperties: [UserProperty("u", "v")])

    func message(_ topic: String, phase: UInt8 = 0, identifiers: [UInt32] = []) -> PersistedMessage {
        PersistedMessage(
            topic: topic,
            payload: buffer("body of \(topic)"),
            qos: .exactlyOnce,
            retain: false,
            properties: Self.properties,
            receivedAt: 42,
            packetIdentifier: nil,
            phase: phase,
            subscriptionIdentifiers: identifiers
        )
    }

    @Test func stateSurvivesReopenInOrder() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var database = try await openStore(directory)
        var state = BrokerStateStore(database: database)

        state.upsertSession(clientIdentifier: "sensor-1", expiryInterval: 3600, disconnectedAt: nil, owner: nil)
        state.upsertSession(
            clientIdentifier: "sensor-1", expiryInterval: 7200, disconnectedAt: 1_700_000_000_000, owner: nil)
        state.upsertSession(clientIdentifier: "", expiryInterval: UInt32.max, disconnectedAt: nil, owner: nil)
        let shared = PersistedSubscription(
            filter: "$share/g/site/+/temp",
            qos: .atLeastOnce,
            noLocal: true,
            retainAsPublished: true,
            retainHandling: 2,
            identifier: 268_435_455
        )
        state.upsertSubscription(clientIdentifier: "sensor-1", PersistedSubscription(filter: "a/#", qos: .atMostOnce))
        state.upsertSubscription(clientIdentifier: "sensor-1", shared)
        state.upsertSubscription(clientIdentifier: "sensor-1", PersistedSubscription(filter: "a/#", qos: .exactlyOnce))

        var ids: [Int64] = []
        for index in 0..<5 {
            ids.append(state.insertMessage(clientIdentifier: "sensor-1", message("t/\(index)", identifiers: [1, 300])))
        }
        #expect(ids == ids.sorted())
        state.updateMessage(clientIdentifier: "sensor-1", id: ids[0], packetIdentifier: 65535, phase: 2)
        state.deleteMessage(clientIdentifier: "sensor-1", id: ids[1])
        state.insertMessage(clientIdentifier: "", message("empty-id/1"))

        state.setRetained(PersistedRetained(topic: "r/1", payload: buffer("one"), qos: .atLeastOnce, receivedAt: 1))
        state.setRetained(
            PersistedRetained(
                topic: "r/2", payload: buffer("two"), qos: .atMostOnce, properties: Self.properties, receivedAt: 2)
        )
        state.setRetained(PersistedRetained(topic: "r/3", payload: buffer("three"), qos: .atMostOnce, receivedAt: 3))
        state.setRetained(PersistedRetained(topic: "r/3", payload: ByteBuffer(), qos: .atMostOnce, receivedAt: 4))
        state.setRetained(PersistedRetained(topic: "r/1", payload: buffer("uno"), qos: .exactlyOnce, receivedAt: 5))
        state.setRetained(PersistedRetained(topic: "r/4", payload: buffer("four"), qos: .atMostOnce, receivedAt: 6))
        state.deleteRetained(topic: "r/4")
        await state.flush()
        await database.close()

        database = try await openStore(directory)
        state = BrokerStateStore(database: database)
        let (sessions, retained) = try await state.loadAll()
        #expect(sessions.map(\.clientIdentifier) == ["", "sensor-1"])
        let sensor = try #require(sessions.last)
        #expect(sensor.expiryInterval == 7200)
        #expect(sensor.disconnectedAt == 1_700_000_000_000)
        #expect(Set(sensor.subscriptions) == [PersistedSubscription(filter: "a/#", qos: .exactlyOnce), shared])
        #expect(sensor.messages.map(\.id) == [ids[0], ids[2], ids[3], ids[4]])
        #expect(sensor.messages.map(\.topic) == ["t/0", "t/2", "t/3", "t/4"])
        let first = try #require(sensor.messages.first)
        #expect(first.packetIdentifier == 65535)
        #expect(first.phase == 2)
        #expect(first.qos == .exactlyOnce)
        #expect(first.properties == Self.properties)
        #expect(first.payload == buffer("body of t/0"))
        #expect(first.subscriptionIdentifiers == [1, 300])
        #expect(first.receivedAt == 42)
        #expect(sessions.first?.expiryInterval == UInt32.max)
        #expect(sessions.first?.messages.map(\.topic) == ["empty-id/1"])

        #expect(retained.map(\.topic) == ["r/1", "r/2"])
        #expect(retained.first?.payload == buffer("uno"))
        #expect(retained.first?.qos == .exactlyOnce)
        #expect(retained.last?.properties == Self.properties)

        // New ids never collide with the ones already stored.
        let later = state.insertMessage(clientIdentifier: "sensor-1", message("t/9"))
        #expect(later > (ids.last ?? 0))
        await database.close()
    }

    @Test func deleteSessionCascades() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("wharf.db")
        let database = try await openStore(directory)
        let state = BrokerStateStore(database: database)
        for client in ["a", "b"] {
            state.upsertSession(clientIdentifier: client, expiryInterval: 10, disconnectedAt: 5, owner: nil)
            state.upsertSubscription(clientIdentifier: client, PersistedSubscription(filter: "x/#", qos: .atLeastOnce))
            state.insertMessage(clientIdentifier: client, message("x/1"))
        }
        state.deleteSession(clientIdentifier: "a")
        let sessions = try await state.loadAll().sessions
        #expect(sessions.map(\.clientIdentifier) == ["b"])
        #expect(sessions.first?.subscriptions.count == 1)
        #expect(sessions.first?.messages.count == 1)
        #expect(try rawScalar(path, "SELECT count(*) FROM broker_subscriptions WHERE client_id = 'a'") == 0)
        #expect(try rawScalar(path, "SELECT count(*) FROM broker_messages WHERE client_id = 'a'") == 0)

        state.deleteSubscription(clientIdentifier: "b", filter: "x/#")
        #expect(try await state.loadAll().sessions.first?.subscriptions.isEmpty == true)
        await database.close()
    }

    @Test func completionsRunOnceDurable() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("wharf.db")
        let database = try await openStore(directory)
        let state = BrokerStateStore(database: database)
        let found = Mutex<[Int64?]>([])
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            state.upsertSession(clientIdentifier: "c", expiryInterval: 1, disconnectedAt: nil, owner: nil) { _ in }
            state.insertMessage(clientIdentifier: "c", message("m")) { result in
                let id = (try? result.get()) ?? -1
                let rows = try? rawScalar(path, "SELECT count(*) FROM broker_messages WHERE id = \(id)")
                found.withLock { $0.append(rows) }
                done.resume()
            }
        }
        #expect(found.withLock { $0 } == [1])
        await database.close()
    }

    @Test func unreadableRowsAreSkipped() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("wharf.db")
        var database = try await openStore(directory)
        var state = BrokerStateStore(database: database)
        state.upsertSession(clientIdentifier: "c", expiryInterval: 1, disconnectedAt: nil, owner: nil)
        let good = state.insertMessage(clientIdentifier: "c", message("good"))
        let bad = state.insertMessage(clientIdentifier: "c", message("bad"))
        state.setRetained(PersistedRetained(topic: "r", payload: buffer("x"), qos: .atMostOnce, receivedAt: 0))
        await database.close()
        try rawExecute(path, "UPDATE broker_messages SET properties = x'01FF' WHERE id = \(bad)")
        try rawExecute(path, "UPDATE broker_retained SET qos = 7")

        let capture = LogCapture()
        database = try await openStore(directory, logger: capture.logger)
        state = BrokerStateStore(database: database)
        let (sessions, retained) = try await state.loadAll()
        #expect(sessions.first?.messages.map(\.id) == [good])
        #expect(retained.isEmpty)
        #expect(capture.messages.contains { $0.level == .error && $0.message.contains("2 unreadable") })
        await database.close()
    }
}
