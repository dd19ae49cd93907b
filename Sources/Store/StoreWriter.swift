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
///
/// What piles up is bounded in bytes (`maxPendingBytes`, counting from submission to commit):
/// when the disk is slower than what arrives, operations that bring new data are refused with
/// `.backlogFull` instead of being held; deletes and updates are always taken.
final class StoreWriter: Sendable {
    private struct Pending {
        var operations: [WriteOperation] = []
        var drainScheduled = false
        var closed = false
        var nextMessageID: Int64
        /// Bytes submitted and not yet committed (or failed).
        var bytes = 0
        /// The part of `bytes` in `operations`, not yet taken by the writer thread.
        var untakenBytes = 0

        /// Takes `operation` unless it brings new data and the bound is reached. A first
        /// operation is always taken, however large, so that one big message is never stuck.
        mutating func admit(_ operation: WriteOperation, bound: Int) -> Bool {
            let cost = operation.pendingCost
            if operation.bringsNewData, bytes > 0, bytes + cost > bound { return false }
            bytes += cost
            untakenBytes += cost
            operations.append(operation)
            return true
        }
    }

    let shared: StoreShared
    private let pool: NIOThreadPool
    private let confinement: WriterConfinement
    private let pending: Mutex<Pending>
    private let maxBatch: Int
    private let maxPendingBytes: Int
    /// Operations refused since open because `maxPendingBytes` were waiting.
    let refusedForBacklog = Atomic<Int>(0)

    init(
        pool: NIOThreadPool,
        confinement: WriterConfinement,
        shared: StoreShared,
        nextMessageID: Int64,
        maxBatch: Int,
        maxPendingBytes: Int = 64 << 20
    ) {
        self.pool = pool
        self.confinement = confinement
        self.shared = shared
        self.pending = Mutex(Pending(nextMessageID: nextMessageID))
        self.maxBatch = max(1, maxBatch)
        self.maxPendingBytes = max(1, maxPendingBytes)
    }

    /// Bytes submitted and not yet committed.
    var pendingBytes: Int { pending.withLock { $0.bytes } }

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

    /// Queues `operation`; it fails at once with `.closed` if the store is closed, or with
    /// `.backlogFull` if it brings new data while `maxPendingBytes` wait.
    func submit(_ operation: WriteOperation) {
        let (refusal, schedule) = pending.withLock { state -> (StoreError?, Bool) in
            guard !state.closed else { return (.closed, false) }
            guard state.admit(operation, bound: maxPendingBytes) else { return (self.backlogFull(), false) }
            defer { state.drainScheduled = true }
            return (nil, !state.drainScheduled)
        }
        if let refusal {
            operation.reject(refusal)
        } else if schedule {
            pool.submit { state in self.drain(state) }
        }
    }

    /// Assigns the next broker message id and queues the operation built with it, in one step so
    /// that ids increase in submission order.
    func submitMessage(_ makeOperation: (Int64) -> WriteOperation) -> Int64 {
        let (id, refused, schedule) = pending.withLock { state -> (Int64, (WriteOperation, StoreError)?, Bool) in
            let id = state.nextMessageID
            state.nextMessageID += 1
            let operation = makeOperation(id)
            guard !state.closed else { return (id, (operation, .closed), false) }
            guard state.admit(operation, bound: maxPendingBytes) else {
                return (id, (operation, self.backlogFull()), false)
            }
            defer { state.drainScheduled = true }
            return (id, nil, !state.drainScheduled)
        }
        if let (operation, error) = refused {
            operation.reject(error)
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
                    state.bytes = 0
                    state.untakenBytes = 0
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
            let (taken, takenBytes) = pending.withLock { state -> ([WriteOperation], Int) in
                if state.operations.isEmpty {
                    state.drainScheduled = false
                }
                defer {
                    state.operations = []
                    state.untakenBytes = 0
                }
                return (state.operations, state.untakenBytes)
            }
            if taken.isEmpty { return }
            var start = taken.startIndex
            while start < taken.endIndex {
                let end = min(start + maxBatch, taken.endIndex)
                context.runBatch(taken[start..<end])
                start = end
            }
            pending.withLock { $0.bytes = max(0, $0.bytes - takenBytes) }
        }
    }

    /// Counts a refusal and describes it (the caller holds the lock, so nothing is logged here:
    /// the refused operation's submitter reports it).
    private func backlogFull() -> StoreError {
        refusedForBacklog.add(1, ordering: .relaxed)
        return StoreError(
            .backlogFull, "\(maxPendingBytes) bytes already wait for the store writer (storage.max_pending_bytes)")
    }
}
