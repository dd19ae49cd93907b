import Logging
import WharfCore

/// Dead-letter operations, run by the writer inside a batch transaction.
extension WriterContext {
    /// Moves each record from the queue to the dead-letter table: its INSERT and the queue's DELETE
    /// run under one savepoint, so a record is in exactly one of the two tables whatever fails.
    /// Records no longer in the queue (expired, dropped) are skipped. Then the bounds are enforced.
    func moveToDeadLetters(_ moves: [DeadLetterMove], _ limits: DeadLetterLimits) throws(SQLiteError) {
        let insert = try db.statement(.deadLetterMove)
        let delete = try db.statement(.queueDeleteOne)
        for move in moves {
            try db.statement(.savepoint).run()
            do throws(SQLiteError) {
                insert.bind(1, move.sequence)
                insert.bind(2, Int64(move.reasonCode))
                insert.bind(3, move.reasonString)
                insert.bind(4, move.refusedAt)
                let inserted = try deleteRows(insert)
                delete.bind(1, move.sequence)
                let gone = try deleteRows(delete)
                try db.statement(.savepointRelease).run()
                queue.removeRows(count: gone.count, bytes: gone.bytes)
                queue.deadLetters += inserted.count
                queue.deadLetterBytes += inserted.bytes
                if inserted.count > 0 { queue.deadLettered[move.reasonCode, default: 0] += inserted.count }
            } catch {
                if !db.isAutocommit {
                    try? db.statement(.savepointRollback).run()
                    try? db.statement(.savepointRelease).run()
                }
                throw error
            }
        }
        try enforceDeadLetterLimits(limits)
    }

    /// Deletes the oldest dead letters until the table is within `limits`.
    private func enforceDeadLetterLimits(_ limits: DeadLetterLimits) throws(SQLiteError) {
        guard queue.deadLetters > limits.maxRows || queue.deadLetterBytes > limits.maxBytes else { return }
        let head = try db.statement(.deadLetterHead)
        var rows = queue.deadLetters
        var bytes = queue.deadLetterBytes
        var last: Int64?
        do {
            defer { head.reset() }
            while rows > limits.maxRows || bytes > limits.maxBytes, try head.step() {
                last = head.int64(0)
                rows -= 1
                bytes -= Int(head.int64(1))
            }
        }
        guard let last else { return }
        let delete = try db.statement(.deadLetterDeleteThrough)
        delete.bind(1, last)
        let gone = try deleteRows(delete)
        queue.deadLetters = max(0, queue.deadLetters - gone.count)
        queue.deadLetterBytes = max(0, queue.deadLetterBytes - gone.bytes)
        queue.deadLettersDropped += gone.count
        logger.warning(
            "Dead-letter table full: deleted the \(gone.count) oldest dead letter(s)",
            metadata: ["store.path": "\(db.path)", "store.dead_letters": "\(queue.deadLetters)"]
        )
    }

    /// The newest `limit` dead letters, newest first.
    func listDeadLetters(limit: Int) throws(SQLiteError) -> [DeadLetterRecord] {
        let select = try db.statement(.deadLetterSelect)
        select.bind(1, max(0, limit))
        defer { select.reset() }
        var records: [DeadLetterRecord] = []
        while try select.step() {
            let properties =
                select.withBlob(7) { raw in try? BlobCodec.decodeProperties(raw) } ?? MessageProperties()
            records.append(
                DeadLetterRecord(
                    id: select.int64(0),
                    sequence: select.int64(1),
                    rule: select.text(2),
                    topic: select.text(3),
                    payload: select.byteBuffer(4, allocator: allocator),
                    qos: QoS(rawValue: UInt8(clamping: select.int64(5))) ?? .atLeastOnce,
                    retain: select.int64(6) != 0,
                    properties: properties,
                    enqueuedAt: select.int64(8),
                    reasonCode: UInt8(clamping: select.int64(9)),
                    reasonString: select.optionalText(10),
                    refusedAt: select.int64(11)
                )
            )
        }
        return records
    }

    /// Deletes every dead letter; returns how many.
    func clearDeadLetters() throws(SQLiteError) -> Int {
        let gone = try deleteRows(try db.statement(.deadLetterClear))
        queue.deadLetters = 0
        queue.deadLetterBytes = 0
        return gone.count
    }
}
