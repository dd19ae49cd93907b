import NIOCore
import Testing
import WharfCore

@testable import WharfPlugins

@Suite("Command queue")
struct CommandQueueTests {
    private func message(_ bytes: Int) -> Message {
        Message(topic: "c", payload: ByteBuffer(repeating: 0x61, count: bytes), principal: .broker)
    }

    @Test("nothing is queued before a plugin is ready to read it")
    func closedDrops() {
        let queue = CommandQueue(maxCount: 10, maxBytes: 1000)
        #expect(queue.push(message(1)) == .dropped)
        queue.open()
        #expect(queue.push(message(1)) == .queued(scheduleDrain: true))
    }

    @Test("the count and byte bounds hold; a drain is scheduled once until the queue empties")
    func bounds() {
        let queue = CommandQueue(maxCount: 3, maxBytes: 100)
        queue.open()
        #expect(queue.push(message(10)) == .queued(scheduleDrain: true))
        #expect(queue.push(message(10)) == .queued(scheduleDrain: false))
        #expect(queue.push(message(200)) == .dropped)
        #expect(queue.push(message(10)) == .queued(scheduleDrain: false))
        #expect(queue.push(message(1)) == .dropped)
        #expect(queue.pop() != nil)
        #expect(queue.pop() != nil)
        #expect(queue.pop() != nil)
        #expect(queue.pop() == nil)
        #expect(queue.push(message(10)) == .queued(scheduleDrain: true))
        #expect(queue.close() == 1)
        #expect(queue.count == 0)
    }
}
