import NIOCore
import Testing

@testable import Uplink

@Suite struct InMemoryUplinkQueueTests {
    @Test func readsInOrderAfterASequence() async throws {
        let queue = InMemoryUplinkQueue()
        for index in 1...10 { queue.append(topic: "t/\(index)", payload: ByteBuffer(string: "\(index)")) }
        #expect(try await queue.read(after: 0, limit: 3).map(\.sequence) == [1, 2, 3])
        #expect(try await queue.read(after: 7, limit: 10).map(\.sequence) == [8, 9, 10])
        #expect(try await queue.read(after: 10, limit: 10).isEmpty)
        #expect(try await queue.read(after: 2, limit: 1).first?.topic == "t/3")
    }

    @Test func acknowledgeDeletesExactlyTheNamedRecords() async throws {
        let queue = InMemoryUplinkQueue()
        for _ in 1...6 { queue.append(topic: "t", payload: ByteBuffer()) }
        try await queue.acknowledge([4, 2, 99])
        #expect(queue.count == 4)
        #expect(queue.acknowledgedCount == 2)
        #expect(queue.pending.map(\.sequence) == [1, 3, 5, 6])
        #expect(try await queue.read(after: 1, limit: 10).map(\.sequence) == [3, 5, 6])
        try await queue.acknowledge([1, 3, 5, 6, 2])
        #expect(queue.count == 0)
        #expect(queue.acknowledgedCount == 6)
    }

    @Test func manyRecordsStayCheap() async throws {
        let queue = InMemoryUplinkQueue()
        for _ in 1...20_000 { queue.append(topic: "t", payload: ByteBuffer()) }
        var last: Int64 = 0
        while true {
            let batch = try await queue.read(after: last, limit: 256)
            guard let end = batch.last?.sequence else { break }
            try await queue.acknowledge(batch.map(\.sequence))
            last = end
        }
        #expect(queue.count == 0)
        #expect(last == 20_000)
    }

    @Test func waitForAppendReturnsOnceSomethingNewerExists() async {
        let queue = InMemoryUplinkQueue()
        queue.append(topic: "t", payload: ByteBuffer())
        await queue.waitForAppend(after: 0)
        async let waited: Void = queue.waitForAppend(after: 1)
        try? await Task.sleep(for: .milliseconds(20))
        queue.append(topic: "t", payload: ByteBuffer())
        await waited
        #expect(queue.count == 2)
    }

    @Test func waitForAppendIsCancellable() async {
        let queue = InMemoryUplinkQueue()
        let task = Task { await queue.waitForAppend(after: 0) }
        try? await Task.sleep(for: .milliseconds(20))
        task.cancel()
        await task.value
        #expect(queue.count == 0)
    }
}
