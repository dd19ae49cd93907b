import NIOPosix
import Synchronization

/// Holds the writer thread's context.
///
/// `@unchecked Sendable` is safe because `context` is read and written only by work items of
/// `StoreWriter.pool`, a `NIOThreadPool` with exactly one thread, which runs its items one after
/// another on that thread. Items also run (as `.cancelled`) on other threads when the pool is
/// shutting down or stopped; every item checks for `.active` before touching `context`.
final class WriterConfinement: @unchecked Sendable {
    var context: WriterContext?
}

/// The store's single writer: a one-thread pool that owns the SQLite connection, and the queue
/// of pending operations it drains in batches. While one batch commits, new operations pile up
/// and go into the next transaction together: that is the group commit.
final class StoreWriter: Sendable {
    private struct Pending {
        var operations: [WriteOperation] = []
        var drainScheduled = false
        var closed = false
        var nextMessageID: Int64
    }

    let shared: StoreShared
    private let pool: NIOThreadPool
    private let confinement: WriterConfinement
    private let pending: Mutex<Pending>
    private let maxBatch: Int

    init(pool: NIOThreadPool, confinement: WriterConfinement, shared: StoreShared, nextMessageID: Int64, maxBatch: Int)
    {
        self.pool = pool
        self.confinement = confinement
        self.shared = shared
        self.pending = Mutex(Pending(nextMessageID: nextMessageID))
        self.maxBatch = max(1, maxBatch)
    }

    deinit {
        // Reached only without `close()`; no drain is queued, as each drain item keeps `self` alive.
        let wasOpen = pending.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard wasOpen else { return }
        let pool = self.pool
        let confinement = self.confinement
        pool.submit { state in
            if case .active = state {
                confinement.context?.db.close()
                confinement.context = nil
            }
            pool.shutdownGracefully { _ in }
        }
    }

    /// Queues `operation`; it fails with `.closed` at once if the store is closed.
    func submit(_ operation: WriteOperation) {
        let (accepted, schedule) = pending.withLock { state -> (Bool, Bool) in
            guard !state.closed else { return (false, false) }
            state.operations.append(operation)
            defer { state.drainScheduled = true }
            return (true, !state.drainScheduled)
        }
        if !accepted {
            operation.reject(.closed)
        } else if schedule {
            pool.submit { state in self.drain(state) }
        }
    }

    /// Assigns the next broker message id and queues the operation built with it, in one step so
    /// that ids increase in submission order.
    func submitMessage(_ makeOperation: (Int64) -> WriteOperation) -> Int64 {
        let (id, operation, schedule) = pending.withLock { state -> (Int64, WriteOperation?, Bool) in
            let id = state.nextMessageID
            state.nextMessageID += 1
            let operation = makeOperation(id)
            guard !state.closed else { return (id, operation, false) }
            state.operations.append(operation)
            defer { state.drainScheduled = true }
            return (id, nil, !state.drainScheduled)
        }
        if let operation {
            operation.reject(.closed)
        } else if schedule {
            pool.submit { state in self.drain(state) }
        }
        return id
    }

    /// Commits what is pending, closes the connection and stops the thread.
    func close() async {
        let first = pending.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            pool.submit { state in
                if case .active = state, let context = self.confinement.context {
                    // Operations accepted just before `closed` was set may not have a drain queued yet.
                    self.drainAll(context)
                    context.db.close()
                    self.confinement.context = nil
                }
                continuation.resume()
            }
        }
        shared.close()
        try? await pool.shutdownGracefully()
    }

    private func drain(_ state: NIOThreadPool.WorkItemState) {
        guard case .active = state, let context = confinement.context else {
            // The connection is gone or this is not the writer thread: only fail the operations.
            let orphans = pending.withLock { state in
                defer {
                    state.operations = []
                    state.drainScheduled = false
                }
                return state.operations
            }
            for operation in orphans { operation.reject(.closed) }
            return
        }
        drainAll(context)
    }

    private func drainAll(_ context: WriterContext) {
        while true {
            // Take everything at once (O(1)); what arrives meanwhile comes after it anyway.
            let taken = pending.withLock { state -> [WriteOperation] in
                if state.operations.isEmpty {
                    state.drainScheduled = false
                }
                defer { state.operations = [] }
                return state.operations
            }
            if taken.isEmpty { return }
            var start = taken.startIndex
            while start < taken.endIndex {
                let end = min(start + maxBatch, taken.endIndex)
                context.runBatch(taken[start..<end])
                start = end
            }
        }
    }
}
