import Logging
import NIOCore
import Synchronization
import Testing
import WharfCore

@testable import Store

@Suite struct ForwardQueueTests {
    static let roomy = ForwardQueueLimits(maxBytes: 1 << 30)

    @Test func appendsReadBackInOrderAndRemoveDeletes() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try await openStore(directory)
        let queue = ForwardQueue(database: database, limits: Self.roomy, now: { 1_000_000 })

        let properties = MessageProperties(contentType: "text/plain", userProperties: [UserProperty("k", "v")])
        var sequences: [Int64] = []
        for index in 0..<10 {
            sequences.append(try await queue.append(makeRecord(index, properties: properties), policy: .rejectNew))
        }
        #expect(sequences == sequences.sorted())
        #expect(Set(sequences).count == 10)

        let all = try await queue.read(after: 0, limit: 100)
        #expect(all.map(\.sequence) == sequences)
        let third = try #require(all.dropFirst(2).first)
        #expect(third.topic == "site/m0002")
        #expect(third.rule == "rule-a")
        #expect(third.payload == buffer("payload-2"))
        #expect(third.qos == .atLeastOnce)
        #expect(third.retain)
        #expect(third.properties == properties)
        #expect(third.enqueuedAt == 1_000_000)
        #expect(third.expiresAt == nil)

        let page = try await queue.read(after: sequences[4], limit: 3)
        #expect(page.map(\.sequence) == Array(sequences[5..<8]))

        try await queue.remove(Array(sequences.prefix(5)))
        let rest = try await queue.read(after: 0, limit: 100)
        #expect(rest.map(\.sequence) == Array(sequences.suffix(5)))

        let statistics = queue.statistics
        #expect(statistics.depth == 5)
        #expect(statistics.appended == 10)
        #expect(statistics.removed == 5)
        #expect(
            statistics.bytes
                == (5..<10).map { PreparedAppend(makeRecord($0, properties: properties)).size }.reduce(0, +))
        #expect(queue.lastSequence == sequences.last)
        await database.close()
    }

    @Test func groupCommitPutsManyAppendsInOneTransaction() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try await openStore(directory)
        let queue = ForwardQueue(database: database, limits: Self.roomy, now: { 1_000_000 })

        let count = 1000
        let sequences = try await withThrowingTaskGroup(of: Int64.self) { group in
            for index in 0..<count {
                group.addTask { try await queue.append(makeRecord(index), policy: .rejectNew) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(sequences).count == count)
        let statistics = queue.statistics
        #expect(statistics.appended == count)
        #expect(statistics.commits >= 1)
        #expect(statistics.commits <= count / 4, "\(statistics.commits) commits for \(count) appends")
        #expect(try rawScalar(directory.file("wharf.db"), "SELECT count(*) FROM forward_queue") == Int64(count))
        await database.close()
    }

    @Test func recordIsVisibleToAnotherConnectionWhenCompletionRuns() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("wharf.db")
        let database = try await openStore(directory)
        let queue = ForwardQueue(database: database, limits: Self.roomy, now: { 1_000_000 })

        // Look from inside the completion itself: nothing may run between "durable" and the check.
        let seen = Mutex<[Int64?]>([])
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            queue.append(makeRecord(1), policy: .rejectNew) { result in
                let sequence = (try? result.get()) ?? -1
                let found = try? rawScalar(path, "SELECT count(*) FROM forward_queue WHERE seq = \(sequence)")
                seen.withLock { $0.append(found) }
                done.resume()
            }
        }
        #expect(seen.withLock { $0 } == [1])
        await database.close()
    }

    @Test func reopeningKeepsRecordsAndSequencesKeepIncreasing() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var database = try await openStore(directory)
        var queue = ForwardQueue(database: database, limits: Self.roomy, now: { 1_000_000 })
        var sequences: [Int64] = []
        for index in 0..<20 {
            sequences.append(try await queue.append(makeRecord(index), policy: .dropOldest))
        }
        try await queue.remove(Array(sequences.prefix(5)))
        await database.close()

        database = try await openStore(directory)
        #expect(database.openOutcome == .existing)
        queue = ForwardQueue(database: database, limits: Self.roomy, now: { 1_000_000 })
        #expect(queue.statistics.depth == 15)
        #expect(queue.statistics.oldestEnqueuedAt == 1_000_000)
        let records = try await queue.read(after: 0, limit: 100)
        #expect(records.map(\.sequence) == Array(sequences.suffix(15)))
        #expect(records.first?.payload == buffer("payload-5"))

        // Even with the table emptied, a new record never reuses an old sequence.
        try await queue.remove(records.map(\.sequence))
        await database.close()
        database = try await openStore(directory)
        queue = ForwardQueue(database: database, limits: Self.roomy, now: { 1_000_000 })
        #expect(queue.statistics.depth == 0)
        #expect(queue.statistics.oldestEnqueuedAt == nil)
        let next = try await queue.append(makeRecord(99), policy: .rejectNew)
        #expect(next > sequences.last ?? 0)
        await database.close()
    }

    @Test func waitForAppendWakesOnCommitAndOnCancellation() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try await openStore(directory)
        let queue = ForwardQueue(database: database, limits: Self.roomy, now: { 0 })

        await queue.waitForAppend(after: -1)  // already true: returns at once
        let waiter = Task { await queue.waitForAppend(after: queue.lastSequence) }
        try await Task.sleep(for: .milliseconds(20))
        let sequence = try await queue.append(makeRecord(1), policy: .rejectNew)
        await waiter.value
        #expect(queue.lastSequence == sequence)

        let cancelled = Task { await queue.waitForAppend(after: sequence) }
        try await Task.sleep(for: .milliseconds(20))
        cancelled.cancel()
        await cancelled.value

        let closing = Task { await queue.waitForAppend(after: sequence) }
        try await Task.sleep(for: .milliseconds(20))
        await database.close()
        await closing.value
    }

    @Test func operationsAfterCloseFailWithClosed() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try await openStore(directory)
        let queue = ForwardQueue(database: database, limits: Self.roomy, now: { 0 })
        await database.close()
        await database.close()
        do {
            _ = try await queue.append(makeRecord(1), policy: .rejectNew)
            Issue.record("append after close succeeded")
        } catch {
            #expect(error.kind == .closed)
        }
        await #expect(throws: StoreError.self) { try await queue.read(after: 0, limit: 1) }
    }

    @Test func unreadableRowIsDeletedNotReturned() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("wharf.db")
        var database = try await openStore(directory)
        var queue = ForwardQueue(database: database, limits: Self.roomy, now: { 0 })
        for index in 0..<3 {
            _ = try await queue.append(makeRecord(index), policy: .rejectNew)
        }
        await database.close()
        try rawExecute(path, "UPDATE forward_queue SET properties = x'0907' WHERE seq = 2")

        let capture = LogCapture()
        database = try await openStore(directory, logger: capture.logger)
        queue = ForwardQueue(database: database, limits: Self.roomy, now: { 0 })
        let records = try await queue.read(after: 0, limit: 10)
        #expect(records.map(\.sequence) == [1, 3])
        #expect(queue.statistics.corruptRecords == 1)
        #expect(queue.statistics.depth == 2)
        #expect(capture.messages.contains { $0.level == .error && $0.message.contains("record 2") })
        await database.close()
    }
}
