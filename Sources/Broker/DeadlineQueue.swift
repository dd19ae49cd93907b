/// Something with one deadline in a ``DeadlineQueue``. It keeps its own place in the queue, so
/// that its deadline can be moved, or it can be taken out, without a search.
protocol DeadlineQueueEntry: AnyObject {
    /// Its index in the queue's heap; -1 while it is not queued. Only the queue sets it.
    var deadlineSlot: Int { get set }
}

/// Deadlines (nanoseconds), at most one per entry, earliest first: a binary min-heap. Free of
/// I/O: time is passed in.
struct DeadlineQueue<Entry: DeadlineQueueEntry> {
    private var heap: [(deadline: UInt64, entry: Entry)] = []

    /// Entries queued.
    var count: Int { heap.count }

    /// The earliest deadline, or nil when the queue is empty.
    var earliest: UInt64? { heap.first?.deadline }

    /// Queues `entry` with `deadline`, or moves it there if it is queued already.
    mutating func set(_ entry: Entry, deadline: UInt64) {
        let slot = entry.deadlineSlot
        if slot >= 0, slot < heap.count, heap[slot].entry === entry {
            let earlier = deadline < heap[slot].deadline
            heap[slot].deadline = deadline
            if earlier { siftUp(slot) } else { siftDown(slot) }
            return
        }
        heap.append((deadline, entry))
        entry.deadlineSlot = heap.count - 1
        siftUp(heap.count - 1)
    }

    /// Takes `entry` out of the queue, if it is in it.
    mutating func remove(_ entry: Entry) {
        let slot = entry.deadlineSlot
        guard slot >= 0, slot < heap.count, heap[slot].entry === entry else { return }
        entry.deadlineSlot = -1
        let last = heap.count - 1
        if slot != last {
            heap[slot] = heap[last]
            heap[slot].entry.deadlineSlot = slot
        }
        heap.removeLast()
        if slot < heap.count {
            siftDown(slot)
            siftUp(slot)
        }
        if heap.isEmpty { heap = [] }  // an empty queue keeps no storage
    }

    /// Takes out and returns an entry whose deadline is at or before `now`, earliest first; nil
    /// when none is due.
    mutating func popDue(now: UInt64) -> Entry? {
        guard let first = heap.first, first.deadline <= now else { return nil }
        remove(first.entry)
        return first.entry
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].deadline < heap[parent].deadline else { return }
            swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            let right = left + 1
            let smaller = right < heap.count && heap[right].deadline < heap[left].deadline ? right : left
            guard heap[smaller].deadline < heap[parent].deadline else { return }
            swapAt(parent, smaller)
            parent = smaller
        }
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
        heap.swapAt(a, b)
        heap[a].entry.deadlineSlot = a
        heap[b].entry.deadlineSlot = b
    }
}
