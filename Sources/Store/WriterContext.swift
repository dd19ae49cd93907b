import Logging
import NIOCore

/// The writer thread's state: the connection, the queue accounting and the batch executor.
///
/// Not `Sendable`: it is created, used and closed only on the writer thread (`WriterConfinement`).
final class WriterContext {
    typealias Delivery = () -> Void

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

    /// Runs `operations` in one transaction (one group commit) and then delivers every result.
    ///
    /// An operation that fails while the transaction stays open fails alone. When SQLite rolls
    /// the whole transaction back (it may on `SQLITE_FULL` or I/O errors), the batch runs again
    /// without the culprit, or, for a drop-oldest append hitting a full disk, once more with room
    /// made first; each pass excludes one more operation, so this ends.
    func runBatch(_ operations: [WriteOperation]) {
        let before = queue
        var excluded: [Int: StoreError] = [:]
        var makeRoom: Set<Int> = []
        while true {
            queue = before
            passHadFailure = false
            let changesBefore = db.totalChanges
            do throws(SQLiteError) {
                try db.statement(.begin).run()
            } catch {
                return finishFailed(operations, error.storeError)
            }
            var deliveries: [Delivery] = []
            deliveries.reserveCapacity(operations.count)
            var lost: (index: Int, error: SQLiteError)?
            for index in operations.indices {
                if let error = excluded[index] {
                    deliveries.append(fail(operations[index], error))
                    continue
                }
                do throws(SQLiteError) {
                    deliveries.append(try execute(operations[index], makeRoomFirst: makeRoom.contains(index)))
                } catch {
                    if db.isAutocommit {
                        lost = (index, error)
                        break
                    }
                    deliveries.append(fail(operations[index], error.storeError))
                }
            }
            if let lost {
                if lost.error.isFull, case .append(_, .dropOldest, _, _) = operations[lost.index],
                    !makeRoom.contains(lost.index)
                {
                    makeRoom.insert(lost.index)
                } else {
                    excluded[lost.index] = lost.error.storeError
                }
                continue
            }
            do throws(SQLiteError) {
                try saveBookkeeping()
                try db.statement(.commit).run()
            } catch {
                rollback()
                return finishFailed(operations, error.storeError)
            }
            if db.totalChanges != changesBefore {
                queue.commits += 1
            }
            if failing, !passHadFailure {
                failing = false
                logger.notice("Store writes succeed again", metadata: ["store.path": "\(db.path)"])
            }
            shared.publish(queue)
            for delivery in deliveries { delivery() }
            return
        }
    }

    /// Fails every operation of a batch that could not commit and restores the accounting.
    private func finishFailed(_ operations: [WriteOperation], _ error: StoreError) {
        rollback()
        let deliveries = operations.map { fail($0, error) }
        shared.publish(queue)
        for delivery in deliveries { delivery() }
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
            let result = try append(record, policy, queuePolicy, makeRoomFirst: makeRoomFirst)
            return { completion(result) }
        case .read(let after, let limit, let queuePolicy, let completion):
            let records = try read(after: after, limit: limit, queuePolicy)
            return { completion(.success(records)) }
        case .remove(let sequences, let completion):
            try remove(sequences)
            return { completion(.success(())) }
        case .purgeExpired(let queuePolicy, let completion):
            let count = try purgeExpired(queuePolicy)
            return { completion(.success(count)) }
        case .broker(let write, let completion):
            try apply(write)
            guard let completion else { return {} }
            return { completion(.success(())) }
        case .loadBrokerState(let completion):
            let snapshot = try loadBrokerState()
            return { completion(.success(snapshot)) }
        case .flush(let completion):
            return completion
        }
    }

    private func fail(_ operation: WriteOperation, _ error: StoreError) -> Delivery {
        noteFailure(error)
        switch operation {
        case .append(_, _, _, let completion):
            if error.kind == .diskFull {
                queue.countDrops(1, .diskFull)
            }
            return { completion(.failure(error)) }
        case .read(_, _, _, let completion):
            return { completion(.failure(error)) }
        case .remove(_, let completion):
            return { completion(.failure(error)) }
        case .purgeExpired(_, let completion):
            return { completion(.failure(error)) }
        case .broker(_, let completion):
            guard let completion else { return {} }
            return { completion(.failure(error)) }
        case .loadBrokerState(let completion):
            return { completion(.failure(error)) }
        case .flush(let completion):
            return completion
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
