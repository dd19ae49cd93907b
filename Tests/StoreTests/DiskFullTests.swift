import Testing
import WharfCore

@testable import Store

/// A full disk simulated with `PRAGMA max_page_count`: the queue must fail cleanly or make room,
/// never crash and never corrupt the file.
@Suite struct DiskFullTests {
    static let pages = 48
    static let roomy = ForwardQueueLimits(maxBytes: 1 << 30)

    @Test func rejectNewFailsWithDiskFullAndRecoversWhenSpaceReturns() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("wharf.db")
        var database = try await openStore(directory, maxPageCount: Self.pages)
        var queue = ForwardQueue(database: database, limits: Self.roomy, now: { 0 })

        var accepted: [Int64] = []
        var failure: StoreError?
        for index in 0..<500 {
            do {
                accepted.append(try await queue.append(makeRecord(index, payloadSize: 2000), policy: .rejectNew))
            } catch {
                failure = error
                break
            }
        }
        #expect(failure?.kind == .diskFull)
        #expect(!accepted.isEmpty)
        #expect(queue.statistics.drops(.diskFull) == 1)
        #expect(queue.statistics.depth == accepted.count)
        // Nothing half-written: every accepted record reads back, the file checks clean.
        #expect(try await queue.read(after: 0, limit: 1000).map(\.sequence) == accepted)
        #expect(try rawRows(path, "PRAGMA integrity_check") == [["ok"]])

        // Space returns once acknowledged records are deleted.
        try await queue.remove(Array(accepted.prefix(accepted.count / 2)))
        let next = try await queue.append(makeRecord(1000, payloadSize: 2000), policy: .rejectNew)
        #expect(next > accepted.last ?? 0)
        await database.close()

        // And when the disk grows, everything is still there.
        database = try await openStore(directory)
        queue = ForwardQueue(database: database, limits: Self.roomy, now: { 0 })
        for index in 0..<100 {
            _ = try await queue.append(makeRecord(2000 + index, payloadSize: 2000), policy: .rejectNew)
        }
        #expect(queue.statistics.depth == accepted.count - accepted.count / 2 + 101)
        await database.close()
        #expect(try rawRows(path, "PRAGMA integrity_check") == [["ok"]])
    }

    @Test func dropOldestMakesRoomOnAFullDisk() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("wharf.db")
        let database = try await openStore(directory, maxPageCount: Self.pages)
        let queue = ForwardQueue(database: database, limits: Self.roomy, now: { 0 })

        var last: Int64 = 0
        for index in 0..<300 {
            last = try await queue.append(makeRecord(index, payloadSize: 2000), policy: .dropOldest)
        }
        let statistics = queue.statistics
        #expect(statistics.appended == 300)
        #expect(statistics.drops(.diskFull) > 0)
        #expect(statistics.depth + statistics.drops(.diskFull) == 300)
        let records = try await queue.read(after: 0, limit: 1000)
        #expect(records.count == statistics.depth)
        #expect(records.last?.sequence == last)
        #expect(records.map(\.sequence) == records.map(\.sequence).sorted())
        #expect(try rawRows(path, "PRAGMA integrity_check") == [["ok"]])
        await database.close()
    }

    @Test(arguments: OverflowPolicy.allCases)
    func concurrentAppendsOnAFullDiskAllComplete(_ policy: OverflowPolicy) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("wharf.db")
        let capture = LogCapture()
        let database = try await openStore(directory, maxPageCount: Self.pages, logger: capture.logger)
        let queue = ForwardQueue(database: database, limits: Self.roomy, now: { 0 })

        // Many appends in few batches: those that fail fail alone; the rest commit and stay readable.
        let outcomes = await withTaskGroup(of: Result<Int64, StoreError>.self) { group in
            for index in 0..<300 {
                group.addTask {
                    do throws(StoreError) {
                        return .success(try await queue.append(makeRecord(index, payloadSize: 2000), policy: policy))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let accepted = outcomes.compactMap { try? $0.get() }.sorted()
        let failures = outcomes.compactMap { outcome -> StoreError? in
            guard case .failure(let error) = outcome else { return nil }
            return error
        }
        // SQLite answers SQLITE_FULL on a single-row INSERT by rolling back the whole transaction.
        #expect(capture.messages.contains { $0.message.contains("rolled back a whole transaction") })
        let statistics = queue.statistics
        switch policy {
        case .rejectNew:
            #expect(!accepted.isEmpty)
            #expect(!failures.isEmpty)
            #expect(failures.allSatisfy { $0.kind == .diskFull })
            #expect(statistics.drops(.diskFull) == failures.count)
            #expect(try await queue.read(after: 0, limit: 1000).map(\.sequence) == accepted)
        case .dropOldest:
            #expect(failures.isEmpty)
            #expect(statistics.drops(.diskFull) > 0)
            #expect(statistics.depth + statistics.drops(.diskFull) == 300)
            let records = try await queue.read(after: 0, limit: 1000)
            #expect(records.map(\.sequence) == Array(accepted.suffix(records.count)))
        }
        #expect(try rawRows(path, "PRAGMA integrity_check") == [["ok"]])
        await database.close()
    }
}
