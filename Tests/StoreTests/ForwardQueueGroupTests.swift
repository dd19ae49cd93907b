import Dispatch
import NIOCore
import Synchronization
import Testing
import WharfCore

@testable import Store

/// Appends that reach the writer together are inserted 32 rows per statement; these tests hold
/// the writer on a completion so that a known set of appends forms one batch.
@Suite struct ForwardQueueGroupTests {
    static let roomy = ForwardQueueLimits(maxBytes: 1 << 30)

    /// Holds the writer thread inside a completion until `release()`.
    final class WriterGate: Sendable {
        private let semaphore = DispatchSemaphore(value: 0)
        private let entered = DispatchSemaphore(value: 0)

        /// Appends `record`; its completion blocks the writer thread until `release()`.
        func close(_ queue: ForwardQueue, with record: NewForwardRecord) {
            queue.append(record, policy: .dropOldest) { _ in
                self.entered.signal()
                self.semaphore.wait()
            }
            entered.wait()
        }

        func release() { semaphore.signal() }
    }

    /// Collects completions in submission order.
    final class Outcomes: Sendable {
        private let results = Mutex<[Int: Result<Int64, StoreError>]>([:])
        private let done = DispatchSemaphore(value: 0)

        func completion(_ index: Int) -> @Sendable (Result<Int64, StoreError>) -> Void {
            { result in
                self.results.withLock { $0[index] = result }
                self.done.signal()
            }
        }

        func wait(for count: Int) -> [Result<Int64, StoreError>] {
            for _ in 0..<count { done.wait() }
            return results.withLock { results in (0..<count).compactMap { results[$0] } }
        }
    }

    /// Submits `count` appends while the writer is held, so that they run as one batch.
    func appendAsOneBatch(
        _ queue: ForwardQueue,
        count: Int,
        policy: OverflowPolicy,
        payloadSize: Int? = nil
    ) async -> [Result<Int64, StoreError>] {
        let gate = WriterGate()
        let outcomes = Outcomes()
        await Task.detached {
            gate.close(queue, with: makeRecord(9999, payloadSize: payloadSize))
            for index in 0..<count {
                queue.append(
                    makeRecord(index, payloadSize: payloadSize), policy: policy, completion: outcomes.completion(index))
            }
            gate.release()
        }.value
        return await Task.detached { outcomes.wait(for: count) }.value
    }

    @Test func aBatchOfManyAppendsKeepsOrderContentAndAccounting() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try await openStore(directory)
        let queue = ForwardQueue(database: database, limits: Self.roomy, now: { 0 })

        // 3 full groups of 32 and 4 single rows.
        let outcomes = await appendAsOneBatch(queue, count: 100, policy: .dropOldest)
        let sequences = try outcomes.map { try $0.get() }
        #expect(sequences == Array(2...101))

        let records = try await queue.read(after: 1, limit: 1000)
        #expect(records.map(\.sequence) == sequences)
        #expect(records.map(\.topic) == (0..<100).map(topic))
        #expect(records.map { String(buffer: $0.payload) } == (0..<100).map { "payload-\($0)" })
        #expect(records.map(\.retain) == (0..<100).map { $0 % 2 == 0 })
        let statistics = queue.statistics
        #expect(statistics.depth == 101)
        #expect(statistics.appended == 101)
        let expectedBytes = (0..<100).reduce(PreparedAppend(makeRecord(9999)).size) { sum, index in
            sum + PreparedAppend(makeRecord(index)).size
        }
        #expect(statistics.bytes == expectedBytes)
        #expect(statistics.commits == 2)
        await database.close()

        // The sequence carries over a reopen.
        let reopened = try await openStore(directory)
        let again = ForwardQueue(database: reopened, limits: Self.roomy, now: { 0 })
        #expect(try await again.append(makeRecord(500), policy: .dropOldest) == 102)
        await reopened.close()
    }

    @Test func aGroupOverTheByteBoundFallsBackToTheOverflowPolicy() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try await openStore(directory)
        let size = PreparedAppend(makeRecord(0, payloadSize: 100)).size
        let queue = ForwardQueue(database: database, limits: ForwardQueueLimits(maxBytes: size * 40), now: { 0 })

        let outcomes = await appendAsOneBatch(queue, count: 64, policy: .dropOldest, payloadSize: 100)
        #expect(outcomes.allSatisfy { (try? $0.get()) != nil })
        let statistics = queue.statistics
        #expect(statistics.depth == 40)
        #expect(statistics.bytes == size * 40)
        #expect(statistics.drops(.overflowDropOldest) == 25)
        let records = try await queue.read(after: 0, limit: 1000)
        #expect(records.map(\.sequence) == Array(26...65))
        await database.close()
    }

    @Test(arguments: OverflowPolicy.allCases)
    func aGroupOnAFullDiskIsRedoneOneRecordAtATime(_ policy: OverflowPolicy) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("wharf.db")
        let capture = LogCapture()
        let database = try await openStore(directory, maxPageCount: 48, logger: capture.logger)
        let queue = ForwardQueue(database: database, limits: Self.roomy, now: { 0 })

        let outcomes = await appendAsOneBatch(queue, count: 128, policy: policy, payloadSize: 2000)
        #expect(capture.messages.contains { $0.message.contains("A grouped append failed") })
        let accepted = outcomes.compactMap { try? $0.get() }
        let failures = outcomes.compactMap { outcome -> StoreError? in
            guard case .failure(let error) = outcome else { return nil }
            return error
        }
        #expect(accepted == accepted.sorted())
        switch policy {
        case .rejectNew:
            #expect(!accepted.isEmpty)
            #expect(!failures.isEmpty)
            #expect(failures.allSatisfy { $0.kind == .diskFull })
            #expect(try await queue.read(after: 1, limit: 1000).map(\.sequence) == accepted)
        case .dropOldest:
            #expect(failures.isEmpty)
            #expect(queue.statistics.drops(.diskFull) > 0)
            let records = try await queue.read(after: 0, limit: 1000)
            #expect(records.map(\.sequence) == Array(accepted.suffix(records.count)))
        }
        #expect(try rawRows(path, "PRAGMA integrity_check") == [["ok"]])
        await database.close()
    }
}
