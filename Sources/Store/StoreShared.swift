import Synchronization

/// State the writer thread publishes for other threads: statistics and append notifications.
final class StoreShared: Sendable {
    private struct Waiters {
        var lastSequence: Int64
        var closed = false
        var nextID: UInt64 = 0
        var waiting: [UInt64: (after: Int64, continuation: CheckedContinuation<Void, Never>)] = [:]
    }

    private let published: Mutex<ForwardQueueStatistics>
    private let waiters: Mutex<Waiters>

    init(_ accounting: QueueAccounting) {
        published = Mutex(accounting.statistics)
        waiters = Mutex(Waiters(lastSequence: accounting.lastSequence))
    }

    var statistics: ForwardQueueStatistics { published.withLock { $0 } }

    var lastSequence: Int64 { waiters.withLock { $0.lastSequence } }

    /// Called by the writer after a commit (or a rollback) with the accounting now in force.
    func publish(_ accounting: QueueAccounting) {
        published.withLock { $0 = accounting.statistics }
        let ready = waiters.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard accounting.lastSequence > state.lastSequence else { return [] }
            state.lastSequence = accounting.lastSequence
            let due = state.waiting.filter { $0.value.after < accounting.lastSequence }
            for id in due.keys { state.waiting[id] = nil }
            return due.values.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
    }

    /// Wakes every waiter for good.
    func close() {
        let all = waiters.withLock { state in
            state.closed = true
            defer { state.waiting = [:] }
            return state.waiting.values.map(\.continuation)
        }
        for continuation in all { continuation.resume() }
    }

    /// Returns once a record with a sequence above `after` has been committed, the store
    /// closes, or the task is cancelled.
    func waitForAppend(after: Int64) async {
        let id = waiters.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // Checking cancellation under the lock closes the race with the handler below:
                // the flag is set before the handler runs, and the handler takes the same lock.
                let resumeNow = waiters.withLock { state in
                    if state.closed || state.lastSequence > after || Task.isCancelled { return true }
                    state.waiting[id] = (after, continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = waiters.withLock { $0.waiting.removeValue(forKey: id) }
            waiter?.continuation.resume()
        }
    }
}
