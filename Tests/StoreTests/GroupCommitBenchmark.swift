import Foundation
import NIOCore
import Synchronization
import Testing
import WharfCore

@testable import Store

/// Throughput of durable appends against a bare SQLite batched-insert loop on the same disk.
/// Runs only with `WHARF_STORE_BENCH=1` (it writes hundreds of megabytes); prints its figures.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["WHARF_STORE_BENCH"] != nil), .serialized)
struct GroupCommitBenchmark {
    static let rows = 200_000
    static let payload = ByteBuffer(repeating: 0x5A, count: 100)

    @Test(arguments: SynchronousMode.allCases)
    func appendThroughput(_ mode: SynchronousMode) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }

        let bare = try bareInsertRate(directory.file("bare.db"), mode)

        // Unbounded offered load: the writer takes full batches.
        var database = try await openStore(directory, name: "flood.db", synchronous: mode)
        var queue = ForwardQueue(database: database, limits: ForwardQueueLimits(maxBytes: 1 << 40), now: { 0 })
        let flood = try await measure(queue, concurrency: nil)
        let floodCommits = queue.statistics.commits
        await database.close()

        // 64 publishers, each waiting for its append to be durable before the next.
        database = try await openStore(directory, name: "publishers.db", synchronous: mode)
        queue = ForwardQueue(database: database, limits: ForwardQueueLimits(maxBytes: 1 << 40), now: { 0 })
        let publishers = try await measure(queue, concurrency: 64)
        let publisherCommits = queue.statistics.commits
        await database.close()

        print(
            """
            store-bench synchronous=\(mode.rawValue) rows=\(Self.rows) \
            bare=\(Int(bare))/s \
            flood=\(Int(flood))/s (\(Int(flood / bare * 100))% of bare, \(Self.rows / max(1, floodCommits)) rows/commit) \
            publishers64=\(Int(publishers))/s (\(Self.rows / max(1, publisherCommits)) rows/commit)
            """
        )
    }

    private func measure(_ queue: ForwardQueue, concurrency: Int?) async throws -> Double {
        let start = ContinuousClock.now
        if let concurrency {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<concurrency {
                    group.addTask {
                        for index in stride(from: worker, to: Self.rows, by: concurrency) {
                            _ = try await queue.append(record(index), policy: .rejectNew)
                        }
                    }
                }
                try await group.waitForAll()
            }
        } else {
            let remaining = Atomic<Int>(Self.rows)
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                for index in 0..<Self.rows {
                    queue.append(record(index), policy: .rejectNew) { _ in
                        if remaining.subtract(1, ordering: .relaxed).newValue == 0 { done.resume() }
                    }
                }
            }
        }
        let elapsed = start.duration(to: .now)
        return Double(Self.rows) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }

    private func record(_ index: Int) -> NewForwardRecord {
        NewForwardRecord(
            rule: "bench",
            topic: "bench/device/\(index % 100)",
            payload: Self.payload,
            qos: .atLeastOnce,
            enqueuedAt: Int64(index)
        )
    }

    /// The same rows through one prepared INSERT, 4096 per transaction, no store around it.
    private func bareInsertRate(_ path: String, _ mode: SynchronousMode) throws -> Double {
        let db = try SQLiteConnection(path: path)
        defer { db.close() }
        _ = try db.rows("PRAGMA journal_mode = WAL")
        try db.execute("PRAGMA synchronous = \(mode.pragmaValue)")
        try db.execute(StoreSchema.migrations[0].statements.joined(separator: ";"))
        let insert = try db.statement(.queueInsert)
        let start = ContinuousClock.now
        var index = 0
        while index < Self.rows {
            try db.execute("BEGIN IMMEDIATE")
            for _ in 0..<min(4096, Self.rows - index) {
                let item = record(index)
                insert.bind(1, Int64(index + 1))
                insert.bind(2, item.rule)
                insert.bind(3, item.topic)
                insert.bind(5, Int64(1))
                insert.bind(6, false)
                insert.bind(7, nil as [UInt8]?)
                insert.bind(8, item.enqueuedAt)
                insert.bind(9, nil as Int64?)
                insert.bind(10, 128)
                try insert.withBlob(4, item.payload) { () throws(SQLiteError) in try insert.run() }
                index += 1
            }
            try db.execute("COMMIT")
        }
        let elapsed = start.duration(to: .now)
        return Double(Self.rows) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }
}
