import NIOCore
import Testing
import WharfCore

@testable import Store

@Suite struct DeadLetterTests {
    static let roomy = ForwardQueueLimits(maxBytes: 1 << 30)

    func move(_ sequence: Int64, _ code: UInt8 = 0x87, reason: String? = "not allowed") -> DeadLetterMove {
        DeadLetterMove(sequence: sequence, reasonCode: code, reasonString: reason, refusedAt: 2_000_000)
    }

    @Test func aMoveTakesTheRecordOutOfTheQueueIntoTheTableWithItsReason() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try await openStore(directory)
        let queue = ForwardQueue(database: database, limits: Self.roomy, now: { 1_000_000 })
        let properties = MessageProperties(contentType: "text/plain", userProperties: [UserProperty("k", "v")])
        var sequences: [Int64] = []
        for index in 0..<4 {
            sequences.append(try await queue.append(makeRecord(index, properties: properties), policy: .rejectNew))
        }
        try await queue.moveToDeadLetters([move(sequences[1]), move(sequences[3], 0x90, reason: nil), move(999)])
        #expect(try await queue.read(after: 0, limit: 10).map(\.sequence) == [sequences[0], sequences[2]])
        let letters = try await queue.deadLetters(limit: 10)
        #expect(letters.map(\.sequence) == [sequences[3], sequences[1]])
        let newest = try #require(letters.first)
        #expect(newest.topic == "site/m0003" && newest.rule == "rule-a")
        #expect(newest.payload == buffer("payload-3"))
        #expect(newest.properties == properties && !newest.retain && newest.qos == .atLeastOnce)
        #expect(newest.reasonCode == 0x90 && newest.reasonString == nil && newest.refusedAt == 2_000_000)
        #expect(letters.last?.reasonString == "not allowed")
        let statistics = queue.statistics
        #expect(statistics.depth == 2 && statistics.deadLetters == 2)
        #expect(statistics.deadLettered == [0x87: 1, 0x90: 1])
        #expect(
            statistics.bytes + statistics.deadLetterBytes
                == (0..<4).map { PreparedAppend(makeRecord($0, properties: properties)).size }.reduce(0, +))
        #expect(try await queue.deadLetters(limit: 1).map(\.sequence) == [sequences[3]])
        await database.close()
    }

    @Test func theTableKeepsTheNewestWithinItsRowAndByteBounds() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try await openStore(directory)
        let size = PreparedAppend(makeRecord(0, payloadSize: 100)).size
        let byRows = ForwardQueue(
            database: database, limits: Self.roomy, deadLetterLimits: DeadLetterLimits(maxRows: 3, maxBytes: 1 << 20),
            now: { 1_000_000 })
        var sequences: [Int64] = []
        for index in 0..<5 {
            sequences.append(try await byRows.append(makeRecord(index, payloadSize: 100), policy: .rejectNew))
        }
        for sequence in sequences { try await byRows.moveToDeadLetters([move(sequence)]) }
        #expect(try await byRows.deadLetters(limit: 10).map(\.sequence) == sequences.suffix(3).reversed())
        #expect(byRows.statistics.deadLettersDropped == 2 && byRows.statistics.deadLetters == 3)
        #expect(byRows.statistics.deadLettered[0x87] == 5)

        let byBytes = ForwardQueue(
            database: database, limits: Self.roomy,
            deadLetterLimits: DeadLetterLimits(maxRows: 100, maxBytes: 2 * size + size / 2), now: { 1_000_000 })
        try await byBytes.clearDeadLetters()
        var more: [Int64] = []
        for index in 0..<4 {
            more.append(try await byBytes.append(makeRecord(index, payloadSize: 100), policy: .rejectNew))
        }
        try await byBytes.moveToDeadLetters(more.map { move($0) })
        #expect(try await byBytes.deadLetters(limit: 10).map(\.sequence) == more.suffix(2).reversed())
        #expect(byBytes.statistics.deadLetterBytes == 2 * size)
        #expect(byBytes.statistics.depth == 0)
        await database.close()
    }

    @Test func deadLettersSurviveReopenAndClearEmptiesThem() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var database = try await openStore(directory)
        var queue = ForwardQueue(database: database, limits: Self.roomy, now: { 1_000_000 })
        let first = try await queue.append(makeRecord(0), policy: .rejectNew)
        let second = try await queue.append(makeRecord(1), policy: .rejectNew)
        try await queue.moveToDeadLetters([move(first, 0x99)])
        await database.close()

        database = try await openStore(directory)
        queue = ForwardQueue(database: database, limits: Self.roomy, now: { 1_000_000 })
        #expect(try await queue.read(after: 0, limit: 10).map(\.sequence) == [second])
        #expect(try await queue.deadLetters(limit: 10).map(\.reasonCode) == [0x99])
        #expect(queue.statistics.deadLetters == 1 && queue.statistics.deadLetterBytes > 0)
        #expect(try await queue.clearDeadLetters() == 1)
        #expect(try await queue.deadLetters(limit: 10).isEmpty)
        #expect(queue.statistics.deadLetters == 0 && queue.statistics.deadLetterBytes == 0)
        await database.close()
    }
}
