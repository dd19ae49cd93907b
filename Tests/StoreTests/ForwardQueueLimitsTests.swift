import Testing
import WharfCore

@testable import Store

/// The forward queue's bounds: TTL and MQTT expiry by the injected clock, and both overflow policies.
@Suite struct ForwardQueueLimitsTests {
    static let roomy = ForwardQueueLimits(maxBytes: 1 << 30)

    @Test func ttlExpiresRecordsByTheInjectedClock() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try await openStore(directory)
        let clock = ManualWallClock()
        let limits = ForwardQueueLimits(maxBytes: 1 << 30, maxAge: .seconds(10))
        let queue = ForwardQueue(database: database, limits: limits, now: clock.reader)

        for index in 0..<3 {
            _ = try await queue.append(makeRecord(index, enqueuedAt: clock.now), policy: .rejectNew)
        }
        clock.advance(by: 5_000)
        for index in 3..<5 {
            _ = try await queue.append(makeRecord(index, enqueuedAt: clock.now), policy: .rejectNew)
        }
        #expect(try await queue.read(after: 0, limit: 100).count == 5)

        clock.advance(by: 5_000)  // the first three are exactly 10 s old now
        let live = try await queue.read(after: 0, limit: 100)
        #expect(live.map(\.topic) == ["site/m0003", "site/m0004"])
        #expect(queue.statistics.drops(.expired) == 3)
        #expect(queue.statistics.depth == 2)
        #expect(queue.statistics.oldestEnqueuedAt == 1_005_000)

        clock.advance(by: 5_000)
        #expect(try await queue.purgeExpired() == 2)
        #expect(queue.statistics.depth == 0)
        #expect(queue.statistics.bytes == 0)
        #expect(queue.statistics.drops(.expired) == 5)
        await database.close()
    }

    @Test func mqttMessageExpiryIsHonoured() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try await openStore(directory)
        let clock = ManualWallClock()
        let queue = ForwardQueue(database: database, limits: Self.roomy, now: clock.reader)

        let start = clock.now
        _ = try await queue.append(makeRecord(0, enqueuedAt: start, expiresAt: start + 1_000), policy: .rejectNew)
        _ = try await queue.append(makeRecord(1, enqueuedAt: start), policy: .rejectNew)
        _ = try await queue.append(makeRecord(2, enqueuedAt: start, expiresAt: start + 3_000), policy: .rejectNew)

        clock.advance(by: 2_000)
        let live = try await queue.read(after: 0, limit: 10)
        #expect(live.map(\.topic) == ["site/m0001", "site/m0002"])
        #expect(live.last?.expiresAt == start + 3_000)
        #expect(queue.statistics.drops(.expired) == 1)

        // A read past the expired row's sequence still purges it.
        clock.advance(by: 2_000)
        let tail = try await queue.read(after: live[0].sequence, limit: 10)
        #expect(tail.isEmpty)
        #expect(queue.statistics.drops(.expired) == 2)
        #expect(queue.statistics.depth == 1)
        await database.close()
    }

    @Test func rejectNewRefusesAtTheByteBoundAfterPurgingExpired() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try await openStore(directory)
        let clock = ManualWallClock()
        let size = PreparedAppend(makeRecord(0, payloadSize: 100)).size
        let limits = ForwardQueueLimits(maxBytes: size * 5)
        let queue = ForwardQueue(database: database, limits: limits, now: clock.reader)

        var sequences: [Int64] = []
        for index in 0..<5 {
            sequences.append(try await queue.append(makeRecord(index, payloadSize: 100), policy: .rejectNew))
        }
        await #expect(throws: StoreError.self) {
            try await queue.append(makeRecord(5, payloadSize: 100), policy: .rejectNew)
        }
        do {
            _ = try await queue.append(makeRecord(5, payloadSize: 100), policy: .rejectNew)
            Issue.record("append beyond the bound succeeded")
        } catch {
            #expect(error.kind == .queueFull)
        }
        #expect(queue.statistics.drops(.overflowRejectNew) == 2)
        #expect(queue.statistics.depth == 5)

        try await queue.remove([sequences[0]])
        _ = try await queue.append(makeRecord(6, payloadSize: 100), policy: .rejectNew)

        // Expired records make room before anything is refused.
        _ = try await queue.remove(Array(sequences.dropFirst()))
        let expiring = clock.now + 500
        for index in 0..<4 {
            _ = try await queue.append(
                makeRecord(10 + index, payloadSize: 100, expiresAt: expiring), policy: .rejectNew)
        }
        clock.advance(by: 1_000)
        _ = try await queue.append(makeRecord(20, payloadSize: 100), policy: .rejectNew)
        #expect(queue.statistics.drops(.expired) == 4)
        #expect(queue.statistics.depth == 2)
        await database.close()
    }

    @Test func dropOldestMakesRoomAtTheByteBound() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try await openStore(directory)
        let size = PreparedAppend(makeRecord(0, payloadSize: 100)).size
        let queue = ForwardQueue(database: database, limits: ForwardQueueLimits(maxBytes: size * 5), now: { 0 })

        var sequences: [Int64] = []
        for index in 0..<12 {
            sequences.append(try await queue.append(makeRecord(index, payloadSize: 100), policy: .dropOldest))
        }
        let records = try await queue.read(after: 0, limit: 100)
        #expect(records.map(\.sequence) == Array(sequences.suffix(5)))
        #expect(queue.statistics.drops(.overflowDropOldest) == 7)
        #expect(queue.statistics.bytes == size * 5)

        // A record larger than the whole bound can never fit: it is refused, nothing is dropped for it.
        do {
            _ = try await queue.append(makeRecord(99, payloadSize: size * 6), policy: .dropOldest)
            Issue.record("oversized record accepted")
        } catch {
            #expect(error.kind == .queueFull)
        }
        #expect(queue.statistics.depth == 5)
        #expect(queue.statistics.drops(.overflowRejectNew) == 1)
        await database.close()
    }
}

/// The periodic purge that keeps the age bound while nothing reads the queue.
@Suite struct ForwardQueueExpiryPurgeTests {
    @Test func intervalIsATenthOfTheTTLWithinBounds() {
        #expect(
            ForwardQueue.expiryPurgeInterval(for: ForwardQueueLimits(maxBytes: 1, maxAge: .seconds(300)))
                == .seconds(30))
        #expect(
            ForwardQueue.expiryPurgeInterval(for: ForwardQueueLimits(maxBytes: 1, maxAge: .seconds(2))) == .seconds(1))
        #expect(
            ForwardQueue.expiryPurgeInterval(for: ForwardQueueLimits(maxBytes: 1, maxAge: .seconds(86_400)))
                == .seconds(60))
        #expect(ForwardQueue.expiryPurgeInterval(for: ForwardQueueLimits(maxBytes: 1)) == .seconds(60))
    }

    @Test func expiredRecordsGoWithoutAnyRead() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try await openStore(directory)
        let clock = ManualWallClock()
        let queue = ForwardQueue(
            database: database,
            limits: ForwardQueueLimits(maxBytes: 1 << 20, maxAge: .seconds(60)),
            now: clock.reader
        )
        _ = try await queue.append(makeRecord(1, enqueuedAt: clock.now), policy: .dropOldest)
        _ = try await queue.append(
            makeRecord(2, enqueuedAt: clock.now, expiresAt: clock.now + 5_000), policy: .dropOldest)
        _ = try await queue.append(makeRecord(3, enqueuedAt: clock.now + 50_000), policy: .dropOldest)

        let purging = Task { await queue.purgeExpiredPeriodically(every: .milliseconds(10)) }
        clock.advance(by: 10_000)  // record 2's MQTT expiry passes
        try await waitUntil { queue.statistics.depth == 2 }
        #expect(queue.statistics.drops(.expired) == 1)
        clock.advance(by: 51_000)  // record 1's TTL passes; record 3 is younger
        try await waitUntil { queue.statistics.depth == 1 }
        #expect(queue.statistics.drops(.expired) == 2)
        purging.cancel()
        await purging.value

        // It also ends by itself when the store closes.
        let afterClose = Task { await queue.purgeExpiredPeriodically(every: .milliseconds(10)) }
        await database.close()
        await afterClose.value
    }

    /// Polls `condition` for up to ten seconds.
    private func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<1000 where !condition() {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(condition())
    }
}
