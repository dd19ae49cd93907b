import Testing

@testable import Uplink

@Suite struct ReadAheadTests {
    @Test func takesInOrderAndIgnoresWhatWasFetchedBefore() {
        var readAhead = ReadAhead()
        readAhead.append(records(1...5))
        readAhead.append(records(4...7))
        #expect(readAhead.count == 7)
        #expect(readAhead.fetchedThrough == 7)
        #expect(readAhead.take(3).map(\.sequence) == [1, 2, 3])
        #expect(readAhead.take(10).map(\.sequence) == [4, 5, 6, 7])
        #expect(readAhead.count == 0)
        #expect(readAhead.take(1).isEmpty)
    }

    @Test func unusedRecordsGoBackInFront() {
        var readAhead = ReadAhead(after: 10)
        readAhead.append(records(5...15))
        #expect(readAhead.count == 5)
        let taken = readAhead.take(3)
        readAhead.putBack(taken.dropFirst())
        #expect(readAhead.take(10).map(\.sequence) == [12, 13, 14, 15])
        // After everything was taken the storage is reset; putting back still restores the order.
        let rest = readAhead.take(5)
        #expect(rest.isEmpty)
        readAhead.append(records(16...18))
        let all = readAhead.take(3)
        readAhead.putBack(all.suffix(2))
        #expect(readAhead.take(5).map(\.sequence) == [17, 18])
    }

    @Test func largeBacklogsCompact() {
        var readAhead = ReadAhead()
        readAhead.append(records(1...10_000))
        var seen: [Int64] = []
        while readAhead.count > 0 { seen += readAhead.take(7).map(\.sequence) }
        #expect(seen == Array(1...10_000))
    }
}
