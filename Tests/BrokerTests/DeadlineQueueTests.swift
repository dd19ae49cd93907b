import PropertyBased
import Testing

@testable import Broker

/// An entry of a ``DeadlineQueue`` for tests.
final class Timed: DeadlineQueueEntry {
    let name: Int
    var deadlineSlot = -1

    init(_ name: Int) {
        self.name = name
    }
}

@Suite struct DeadlineQueueTests {
    @Test func dueEntriesComeOutEarliestFirstAndOnlyWhenDue() {
        var queue = DeadlineQueue<Timed>()
        let entries = (0..<5).map(Timed.init)
        for (entry, deadline) in zip(entries, [50, 10, 40, 20, 30] as [UInt64]) {
            queue.set(entry, deadline: deadline)
        }
        #expect(queue.earliest == 10)
        #expect(queue.popDue(now: 9) == nil)
        var order: [Int] = []
        while let entry = queue.popDue(now: 35) { order.append(entry.name) }
        #expect(order == [1, 3, 4])
        #expect(queue.count == 2)
        #expect(entries[1].deadlineSlot == -1, "a popped entry is no longer queued")
    }

    @Test func settingAgainMovesAnEntryInsteadOfAddingIt() {
        var queue = DeadlineQueue<Timed>()
        let a = Timed(0)
        let b = Timed(1)
        queue.set(a, deadline: 100)
        queue.set(b, deadline: 200)
        queue.set(b, deadline: 50)
        #expect(queue.count == 2)
        #expect(queue.popDue(now: 60)?.name == 1)
        queue.set(a, deadline: 300)
        #expect(queue.popDue(now: 200) == nil)
        #expect(queue.popDue(now: 300)?.name == 0)
    }

    @Test func removingAnEntryThatIsNotQueuedChangesNothing() {
        var queue = DeadlineQueue<Timed>()
        let queued = Timed(0)
        queue.set(queued, deadline: 5)
        queue.remove(Timed(1))
        queue.remove(queued)
        queue.remove(queued)
        #expect(queue.count == 0)
        #expect(queue.earliest == nil)
    }

    /// Any mix of sets, removals and pops behaves like a dictionary of deadlines.
    @Test func behavesLikeADictionaryOfDeadlines() async {
        let operation = zip(Gen.int(in: 0...2), Gen.int(in: 0...15), Gen.int(in: 0...1000))
        await propertyCheck(count: 300, input: operation.array(of: 1...200)) { operations in
            var queue = DeadlineQueue<Timed>()
            var model: [Int: UInt64] = [:]
            let entries = (0...15).map(Timed.init)
            for (kind, name, time) in operations {
                let time = UInt64(time)
                switch kind {
                case 0:
                    queue.set(entries[name], deadline: time)
                    model[name] = time
                case 1:
                    queue.remove(entries[name])
                    model[name] = nil
                default:
                    while let entry = queue.popDue(now: time) {
                        #expect(model[entry.name].map { $0 <= time } == true)
                        #expect(model[entry.name] == model.values.min(), "not the earliest")
                        model[entry.name] = nil
                    }
                    #expect(model.values.allSatisfy { $0 > time }, "a due entry stayed queued")
                }
                #expect(queue.count == model.count)
                #expect(queue.earliest == model.values.min())
            }
        }
    }
}
