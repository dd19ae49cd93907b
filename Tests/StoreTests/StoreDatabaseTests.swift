import Foundation
import Logging
import Testing
import WharfCore

@testable import Store

@Suite struct StoreDatabaseTests {
    static let roomy = ForwardQueueLimits(maxBytes: 1 << 30)

    @Test func freshDatabaseUsesWALAndTheCurrentSchema() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("wharf.db")
        var database = try await openStore(directory)
        #expect(database.openOutcome == .fresh)
        #expect(try rawRows(path, "PRAGMA journal_mode") == [["wal"]])
        #expect(try rawScalar(path, "PRAGMA user_version") == Int64(StoreSchema.currentVersion))
        await database.close()

        database = try await openStore(directory)
        #expect(database.openOutcome == .existing)
        await database.close()
    }

    @Test func garbageFileIsMovedAsideAndReplaced() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("wharf.db")
        var garbage = SystemRandomNumberGenerator()
        let bytes = (0..<16_384).map { _ in UInt8.random(in: 0...255, using: &garbage) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path + "-wal"))

        let capture = LogCapture()
        let database = try await openStore(directory, logger: capture.logger)
        guard case .recoveredFromCorruption(let movedTo) = database.openOutcome else {
            Issue.record("outcome \(database.openOutcome)")
            return
        }
        #expect(movedTo.hasPrefix(path + ".corrupt-"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: movedTo)) == Data(bytes))
        #expect(FileManager.default.fileExists(atPath: movedTo + "-wal"))
        let errors = capture.messages.filter { $0.level == .error }
        #expect(errors.count == 1)
        #expect(errors.first.map { $0.message.contains(path) && $0.message.contains(movedTo) } == true)

        let queue = ForwardQueue(database: database, limits: Self.roomy, now: { 0 })
        #expect(queue.statistics.depth == 0)
        _ = try await queue.append(makeRecord(1), policy: .rejectNew)
        #expect(try await queue.read(after: 0, limit: 10).count == 1)
        await database.close()
        #expect(try rawRows(path, "PRAGMA integrity_check") == [["ok"]])
    }

    @Test func truncatedFileIsMovedAsideAndReplaced() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("wharf.db")
        var database = try await openStore(directory)
        var queue = ForwardQueue(database: database, limits: Self.roomy, now: { 0 })
        for index in 0..<500 {
            _ = try await queue.append(makeRecord(index, payloadSize: 1000), policy: .rejectNew)
        }
        await database.close()
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))  // closed cleanly: all in the main file

        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        let size = try handle.seekToEnd()
        try handle.truncate(atOffset: size / 3)
        try handle.close()

        database = try await openStore(directory)
        guard case .recoveredFromCorruption(let movedTo) = database.openOutcome else {
            Issue.record("outcome \(database.openOutcome)")
            return
        }
        #expect(FileManager.default.fileExists(atPath: movedTo))
        queue = ForwardQueue(database: database, limits: Self.roomy, now: { 0 })
        #expect(queue.statistics.depth == 0)
        _ = try await queue.append(makeRecord(1), policy: .rejectNew)
        await database.close()
    }

    @Test func versionOneFileIsMigrated() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("wharf.db")
        // The schema as the first release wrote it, spelled out so a later edit cannot hide a break.
        try rawExecute(
            path,
            """
            PRAGMA journal_mode = WAL;
            CREATE TABLE forward_queue (
                seq INTEGER PRIMARY KEY, rule TEXT NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL,
                qos INTEGER NOT NULL, retain INTEGER NOT NULL, properties BLOB, enqueued_at INTEGER NOT NULL,
                expires_at INTEGER, size INTEGER NOT NULL);
            CREATE INDEX forward_queue_expiry ON forward_queue(expires_at) WHERE expires_at IS NOT NULL;
            CREATE TABLE store_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
            INSERT INTO forward_queue VALUES (7, 'r', 'up/t', x'6869', 1, 0, NULL, 5, NULL, 7);
            INSERT INTO store_meta VALUES ('queue.last_sequence', 9);
            PRAGMA user_version = 1;
            """
        )
        let database = try await openStore(directory)
        #expect(database.openOutcome == .migrated(from: 1))
        #expect(try rawScalar(path, "PRAGMA user_version") == Int64(StoreSchema.currentVersion))

        let queue = ForwardQueue(database: database, limits: Self.roomy, now: { 0 })
        let records = try await queue.read(after: 0, limit: 10)
        #expect(records.map(\.sequence) == [7])
        #expect(records.first?.payload == buffer("hi"))
        #expect(try await queue.append(makeRecord(1), policy: .rejectNew) == 10)

        let state = BrokerStateStore(database: database)
        state.upsertSession(clientIdentifier: "c", expiryInterval: 60, disconnectedAt: nil, owner: nil)
        #expect(try await state.loadAll().sessions.map(\.clientIdentifier) == ["c"])
        await database.close()
    }

    @Test func versionTwoSessionsKeepTheirRowsWithoutAKnownOwner() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("wharf.db")
        // A version 2 database: broker sessions without an owner, no inbound QoS 2 table.
        do {
            let database = try await openStore(directory)
            await database.close()
        }
        try rawExecute(
            path,
            """
            DROP TABLE broker_inbound_qos2;
            DROP TABLE dead_letters;
            CREATE TABLE old_sessions AS SELECT client_id, expiry_interval, disconnected_at FROM broker_sessions;
            DROP TABLE broker_sessions;
            CREATE TABLE broker_sessions (client_id TEXT PRIMARY KEY, expiry_interval INTEGER NOT NULL,
                disconnected_at INTEGER) WITHOUT ROWID;
            INSERT INTO broker_sessions VALUES ('old', 60, 5);
            DROP TABLE old_sessions;
            PRAGMA user_version = 2;
            """
        )
        let database = try await openStore(directory)
        #expect(database.openOutcome == .migrated(from: 2))
        let state = BrokerStateStore(database: database)
        var sessions = try await state.loadAll().sessions
        #expect(sessions.map(\.clientIdentifier) == ["old"])
        #expect(sessions.first?.owner == .unknown)

        state.upsertSession(clientIdentifier: "old", expiryInterval: 60, disconnectedAt: nil, owner: "alice")
        state.upsertSession(clientIdentifier: "anon", expiryInterval: 60, disconnectedAt: nil, owner: nil)
        state.insertInboundQoS2(clientIdentifier: "old", packetIdentifier: 7)
        state.insertInboundQoS2(clientIdentifier: "old", packetIdentifier: 9)
        state.insertInboundQoS2(clientIdentifier: "anon", packetIdentifier: 7)
        state.deleteInboundQoS2(clientIdentifier: "old", packetIdentifier: 9)
        sessions = try await state.loadAll().sessions
        #expect(sessions.map(\.owner) == [.user(nil), .user("alice")])
        #expect(sessions.map(\.inboundQoS2) == [[7], [7]])

        state.deleteSession(clientIdentifier: "anon")
        sessions = try await state.loadAll().sessions
        #expect(sessions.map(\.clientIdentifier) == ["old"])
        #expect(try rawScalar(path, "SELECT count(*) FROM broker_inbound_qos2") == 1)
        await database.close()
    }

    @Test func newerSchemaIsRefusedAndLeftAlone() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("wharf.db")
        try rawExecute(path, "CREATE TABLE future (x); PRAGMA user_version = 99;")
        do {
            let database = try await openStore(directory)
            await database.close()
            Issue.record("opened a newer schema")
        } catch let error as StoreError {
            #expect(error.kind == .unsupportedVersion)
            #expect(error.message.contains("99"))
        }
        #expect(try rawScalar(path, "PRAGMA user_version") == 99)
        #expect(directory.contents().allSatisfy { !$0.contains("corrupt") })
    }

    @Test func missingDirectoryIsAnIOError() async {
        do {
            let database = try await StoreDatabase.open(StoreOptions(path: "/nonexistent-wharf-dir/wharf.db"))
            await database.close()
            Issue.record("opened in a missing directory")
        } catch {
            #expect(error.kind == .io)
            #expect(error.message.contains("/nonexistent-wharf-dir/wharf.db"))
        }
    }
}
