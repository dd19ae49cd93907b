import Dispatch
import NIOCore
import Synchronization
import Testing
import WharfCore

@testable import Store

/// What waits in memory for the writer is bounded in bytes, not only what the queue holds after
/// commit: a disk slower than a flood refuses new data instead of holding it.
@Suite struct StoreWriterBacklogTests {
    @Test func newDataBeyondTheBoundIsRefusedAndCountedWhileDeletesAreTaken() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try await StoreDatabase.open(
            StoreOptions(path: directory.file("wharf.db"), maxPendingBytes: 64 * 1024))
        let queue = ForwardQueue(database: database, limits: ForwardQueueLimits(maxBytes: 1 << 30)) { 1_000_000 }

        // Holds the writer thread, as a slow disk would.
        let gate = DispatchSemaphore(value: 0)
        database.writer.submit(.flush { gate.wait() })

        let outcomes = Mutex<[Int: Result<Int64, StoreError>]>([:])
        for index in 0..<20 {
            queue.append(makeRecord(index, payloadSize: 10 * 1024), policy: .rejectNew) { result in
                outcomes.withLock { $0[index] = result }
            }
        }
        let refused = outcomes.withLock { outcomes in
            outcomes.filter { if case .failure(let error) = $0.value { error.kind == .backlogFull } else { false } }
        }
        #expect(refused.count == 14, "6 records of 10 KiB fit in 64 KiB; the rest are refused at once")
        #expect(Set(refused.keys) == Set(6..<20))
        #expect(database.refusedForBacklog == 14)
        #expect(database.pendingBytes <= 64 * 1024)

        let removed = Mutex(false)
        queue.remove([1]) { _ in removed.withLock { $0 = true } }
        #expect(database.refusedForBacklog == 14, "a delete is never refused")

        gate.signal()
        await database.flush()
        #expect(removed.withLock { $0 })
        #expect(database.pendingBytes == 0)
        #expect((0..<6).allSatisfy { index in outcomes.withLock { (try? $0[index]?.get()) != nil } })
        _ = try await queue.append(makeRecord(20, payloadSize: 10 * 1024), policy: .rejectNew)
        await database.close()
    }
}

/// A message waiting for the writer holds its own bytes, not the socket read it was decoded from.
@Suite struct DetachedPayloadTests {
    @Test func aSliceOfALargeReadIsCopiedAndAnOwnBufferIsKept() {
        var read = buffer(repeating: 7, count: 64 * 1024)
        let slice = read.readSlice(length: 1024) ?? ByteBuffer()
        #expect(slice.storageCapacity >= 64 * 1024)
        let prepared = PreparedAppend(
            NewForwardRecord(
                rule: "r", topic: "t", payload: slice, qos: .atMostOnce, retain: false,
                properties: MessageProperties(), enqueuedAt: 0, expiresAt: nil))
        #expect(prepared.payload.storageCapacity < 4096)
        #expect(prepared.payload == slice)
        let own = buffer(repeating: 1, count: 1024)
        #expect(own.detached().storageCapacity == own.storageCapacity)
    }
}
