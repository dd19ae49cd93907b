import Logging
import NIOCore

/// The writer thread's state: the connection, the queue accounting and the batch executor.
///
/// Not `Sendable`: it is created, used and closed only on the writer thread (`WriterConfinement`).
final class WriterContext {
    let db: SQLiteConnection
    let logger: Logger
    let shared: StoreShared
    let allocator = ByteBufferAllocator()
    var queue: QueueAccounting
    /// Whether writes are failing; the log gets one line when a failing spell starts and one when it ends.
    private var failing = false
    /// Whether an operation of the current pass failed.
    private var passHadFailure = false

    init(db: SQLiteConnection, logger: Logger, shared: StoreShared, queue: QueueAccounting) {
        self.db = db
        self.logger = logger
        self.shared = shared
        self.queue = queue
    }

    /// Runs `operations` in as few transactions as possible (normally one: the group commit),
    /// delivering each transaction's results once it committed.
    func runBatch(_ operations: ArraySlice<WriteOperation>) {
        var remaining = operations
        while !remaining.isEmpty {
            remaining = runTransaction(remaining)
        }
    }

    /// Runs a prefix of `operations` in one transaction and returns the operations it left.
    ///
    /// An operation that fails while the transaction stays open fails alone. When SQLite rolls the
    /// whole transaction back (it does on `SQLITE_FULL` for a single-row INSERT, which keeps no
    /// statement journal), the prefix before the culprit runs again and commits, the culprit fails
    /// alone (a drop-oldest append hitting a full disk first gets one more try with room made), and
    /// the operations after it are left for the next transaction. Every retry shortens the prefix
    /// or spends the culprit's one extra try, so this ends, and a full disk costs O(n) work.
    private func runTransaction(_ operations: ArraySlice<WriteOperation>) -> ArraySlice<WriteOperation> {
        let before = queue
        var end = operations.endIndex
        var culprit: (index: Int, error: StoreError)?
        var makeRoom: Int?
        var grouping = true
        while true {
            queue = before
            passHadFailure = false
            let changesBefore = db.totalChanges
            var deliveries: [Delivery] = []
            deliveries.reserveCapacity(end - operations.startIndex + 1)
            let isEmpty = end == operations.startIndex
            if !isEmpty {
                do throws(SQLiteError) {
                    try db.statement(.begin).run()
                } catch {
                    finishFailed(operations, error.storeError, restoring: before)
                    return []
                }
            }
            var lost: (index: Int, error: SQLiteError)?
            var groupFailure: SQLiteError?
            // Appends before this index were found not to form a full group; they go one by one.
            var singlesUntil = operations.startIndex
            var index = operations.startIndex
            while index < end {
                if grouping, index >= singlesUntil {
                    let runEnd = appendRunEnd(operations, from: index, before: end, avoiding: makeRoom)
                    do throws(SQLiteError) {
                        if try appendGroup(operations[index..<runEnd], into: &deliveries) {
                            index = runEnd
                            continue
                        }
                    } catch {
                        groupFailure = error
                        break
                    }
                    singlesUntil = max(runEnd, index + 1)
                }
                do throws(SQLiteError) {
                    deliveries.append(try execute(operations[index], makeRoomFirst: index == makeRoom))
                } catch {
                    if db.isAutocommit {
                        lost = (index, error)
                        break
                    }
                    deliveries.append(fail(operations[index], error.storeError))
                }
                index += 1
            }
            if let groupFailure {
                // Redo the whole batch one record at a time, where each failure is its record's own.
                logger.debug(
                    "A grouped append failed; redoing the transaction one record at a time",
                    metadata: ["store.path": "\(db.path)", "store.error": "\(groupFailure)"]
                )
                rollback()
                grouping = false
                continue
            }
            if let lost {
                logger.debug(
                    "SQLite rolled back a whole transaction; committing the operations before the failed one",
                    metadata: ["store.path": "\(db.path)", "store.error": "\(lost.error)"]
                )
                if lost.error.isFull, makeRoom != lost.index,
                    case .append(_, .dropOldest, _, _) = operations[lost.index]
                {
                    makeRoom = lost.index
                    end = lost.index + 1
                } else {
                    culprit = (lost.index, lost.error.storeError)
                    end = lost.index
                }
                continue
            }
            let rest = operations[((culprit?.index ?? end - 1) + 1)...]
            if let culprit {
                deliveries.append(fail(operations[culprit.index], culprit.error))
            }
            if !isEmpty {
                do throws(SQLiteError) {
                    try saveBookkeeping()
                    try db.statement(.commit).run()
                } catch {
                    finishFailed(operations[..<rest.startIndex], error.storeError, restoring: before)
                    return rest
                }
            }
            if db.totalChanges != changesBefore {
                queue.commits += 1
            }
            if failing, !passHadFailure {
                failing = false
                logger.notice("Store writes succeed again", metadata: ["store.path": "\(db.path)"])
            }
            shared.publish(queue)
            for delivery in deliveries { delivery.deliver() }
            return rest
        }
    }

    /// Fails every operation of a batch that could not commit and restores the accounting.
    private func finishFailed(
        _ operations: ArraySlice<WriteOperation>,
        _ error: StoreError,
        restoring accounting: QueueAccounting
    ) {
        rollback()
        queue = accounting
        let deliveries = operations.map { fail($0, error) }
        shared.publish(queue)
        for delivery in deliveries { delivery.deliver() }
    }

    private func rollback() {
        if !db.isAutocommit {
            try? db.statement(.rollback).run()
        }
    }

    /// Brings the head-of-queue age and the saved sequence up to date inside the transaction.
    private func saveBookkeeping() throws(SQLiteError) {
        if queue.oldestNeedsRefresh {
            let oldest = try db.statement(.queueOldest)
            defer { oldest.reset() }
            queue.oldestEnqueuedAt = try oldest.step() ? oldest.int64(0) : nil
            queue.oldestNeedsRefresh = false
        }
        if queue.sequenceNeedsSaving {
            let meta = try db.statement(.metaUpsert)
            meta.bind(1, StoreMeta.lastSequenceKey)
            meta.bind(2, queue.lastSequence)
            try meta.run()
            queue.sequenceNeedsSaving = false
        }
    }

    private func execute(_ operation: WriteOperation, makeRoomFirst: Bool) throws(SQLiteError) -> Delivery {
        switch operation {
        case .append(let record, let policy, let queuePolicy, let completion):
            return .sequence(completion, try append(record, policy, queuePolicy, makeRoomFirst: makeRoomFirst))
        case .read(let after, let limit, let queuePolicy, let completion):
            return .records(completion, .success(try read(after: after, limit: limit, queuePolicy)))
        case .remove(let sequences, let completion):
            try remove(sequences)
            return .done(completion, .success(()))
        case .deadLetter(let moves, let limits, let completion):
            try moveToDeadLetters(moves, limits)
            return .done(completion, .success(()))
        case .listDeadLetters(let limit, let completion):
            return .deadLetters(completion, .success(try listDeadLetters(limit: limit)))
        case .clearDeadLetters(let completion):
            return .count(completion, .success(try clearDeadLetters()))
        case .purgeExpired(let queuePolicy, let completion):
            return .count(completion, .success(try purgeExpired(queuePolicy)))
        case .broker(let write, let completion):
            try apply(write)
            guard let completion else { return .nothing }
            return .done(completion, .success(()))
        case .loadBrokerState(let completion):
            return .snapshot(completion, .success(try loadBrokerState()))
        case .flush(let completion):
            return .flushed(completion)
        }
    }

    private func fail(_ operation: WriteOperation, _ error: StoreError) -> Delivery {
        noteFailure(error)
        switch operation {
        case .append(_, _, _, let completion):
            if error.kind == .diskFull {
                queue.countDrops(1, .diskFull)
            }
            return .sequence(completion, .failure(error))
        case .read(_, _, _, let completion):
            return .records(completion, .failure(error))
        case .remove(_, let completion):
            return .done(completion, .failure(error))
        case .deadLetter(_, _, let completion):
            return .done(completion, .failure(error))
        case .listDeadLetters(_, let completion):
            return .deadLetters(completion, .failure(error))
        case .clearDeadLetters(let completion):
            return .count(completion, .failure(error))
        case .purgeExpired(_, let completion):
            return .count(completion, .failure(error))
        case .broker(_, let completion):
            guard let completion else { return .nothing }
            return .done(completion, .failure(error))
        case .loadBrokerState(let completion):
            return .snapshot(completion, .failure(error))
        case .flush(let completion):
            return .flushed(completion)
        }
    }

    private func noteFailure(_ error: StoreError) {
        queue.writeErrors += 1
        passHadFailure = true
        if !failing {
            failing = true
            logger.error(
                "Store write failed: \(error)",
                metadata: ["store.path": "\(db.path)", "store.error": "\(error.kind)"]
            )
        }
    }

    /// Runs a DELETE ... RETURNING size to the end: how many rows went and their summed sizes.
    func deleteRows(_ statement: SQLiteStatement) throws(SQLiteError) -> (count: Int, bytes: Int) {
        defer { statement.reset() }
        var count = 0
        var bytes = 0
        while try statement.step() {
            count += 1
            bytes += Int(statement.int64(0))
        }
        return (count, bytes)
    }
}

/// Keys of the `store_meta` table.
enum StoreMeta {
    static let lastSequenceKey = "queue.last_sequence"
}
