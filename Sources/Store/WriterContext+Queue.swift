import Logging
import WharfCore

/// Forward-queue operations, run by the writer inside a batch transaction.
extension WriterContext {
    /// Appends one record, applying the byte bound and the overflow policy first.
    func append(
        _ prepared: PreparedAppend,
        _ policy: OverflowPolicy,
        _ queuePolicy: QueuePolicy,
        makeRoomFirst: Bool
    ) throws(SQLiteError) -> Result<Int64, StoreError> {
        let maxBytes = queuePolicy.limits.maxBytes
        if queue.bytes + prepared.size > maxBytes {
            try purgeExpired(queuePolicy)
        }
        if queue.bytes + prepared.size > maxBytes {
            if policy == .rejectNew || prepared.size > maxBytes {
                queue.countDrops(1, .overflowRejectNew)
                return .failure(
                    StoreError(
                        .queueFull,
                        "forward queue holds \(queue.bytes) of \(maxBytes) bytes; refused a record of \(prepared.size)"
                    )
                )
            }
            try dropOldest(freeing: queue.bytes + prepared.size - maxBytes, reason: .overflowDropOldest)
        }
        if makeRoomFirst {
            try dropOldest(freeing: Self.roomForFullDisk(prepared.size), reason: .diskFull)
        }
        let sequence = queue.nextSequence
        do throws(SQLiteError) {
            try insert(prepared, sequence: sequence)
        } catch  where error.isFull && policy == .dropOldest && !makeRoomFirst && !db.isAutocommit {
            // SQLite undid only the failed INSERT: make room inside this transaction and retry once.
            try dropOldest(freeing: Self.roomForFullDisk(prepared.size), reason: .diskFull)
            try insert(prepared, sequence: sequence)
        }
        if queue.depth == 0 || queue.oldestEnqueuedAt == nil {
            queue.oldestEnqueuedAt = prepared.enqueuedAt
        }
        queue.depth += 1
        queue.bytes += prepared.size
        queue.appended += 1
        queue.nextSequence += 1
        queue.sequenceNeedsSaving = true
        return .success(sequence)
    }

    /// Bytes to free when the disk is full: pages are freed only when every row on them goes.
    static func roomForFullDisk(_ size: Int) -> Int {
        max(size * 2, 64 * 1024)
    }

    private func insert(_ prepared: PreparedAppend, sequence: Int64) throws(SQLiteError) {
        let record = prepared
        let statement = try db.statement(.queueInsert)
        statement.bind(1, sequence)
        statement.bind(2, record.rule)
        statement.bind(3, record.topic)
        statement.bind(5, Int64(record.qos.rawValue))
        statement.bind(6, record.retain)
        statement.bind(7, prepared.properties)
        statement.bind(8, record.enqueuedAt)
        statement.bind(9, record.expiresAt)
        statement.bind(10, prepared.size)
        try statement.withBlob(4, record.payload) { () throws(SQLiteError) in try statement.run() }
    }

    /// Deletes rows from the head until at least `needed` bytes are gone (or the queue is empty).
    private func dropOldest(freeing needed: Int, reason: ForwardDropReason) throws(SQLiteError) {
        let head = try db.statement(.queueHead)
        var freed = 0
        var last: Int64?
        do {
            defer { head.reset() }
            while freed < needed, try head.step() {
                last = head.int64(0)
                freed += Int(head.int64(1))
            }
        }
        guard let last else { return }
        let delete = try db.statement(.queueDeleteThrough)
        delete.bind(1, last)
        let gone = try deleteRows(delete)
        queue.removeRows(count: gone.count, bytes: gone.bytes)
        queue.countDrops(gone.count, reason)
    }

    /// Deletes every record past its TTL or MQTT expiry; returns how many.
    @discardableResult
    func purgeExpired(_ queuePolicy: QueuePolicy) throws(SQLiteError) -> Int {
        guard queue.depth > 0 else { return 0 }
        let now = queuePolicy.now()
        var total = 0
        if let ttl = queuePolicy.limits.maxAgeMilliseconds {
            // Records are appended in enqueue order, so those past the TTL form a prefix;
            // stragglers from a clock step are caught by `read`.
            let cutoff = now - ttl
            let head = try db.statement(.queueHead)
            var last: Int64?
            do {
                defer { head.reset() }
                while try head.step(), head.int64(2) <= cutoff {
                    last = head.int64(0)
                }
            }
            if let last {
                let delete = try db.statement(.queueDeleteThrough)
                delete.bind(1, last)
                let gone = try deleteRows(delete)
                queue.removeRows(count: gone.count, bytes: gone.bytes)
                total += gone.count
            }
        }
        let expired = try db.statement(.queueDeleteExpired)
        expired.bind(1, now)
        let gone = try deleteRows(expired)
        queue.removeRows(count: gone.count, bytes: gone.bytes)
        total += gone.count
        queue.countDrops(total, .expired)
        return total
    }

    /// Reads up to `limit` live records after `after`; expired and unreadable rows are deleted instead.
    func read(after: Int64, limit: Int, _ queuePolicy: QueuePolicy) throws(SQLiteError) -> [ForwardRecord] {
        try purgeExpired(queuePolicy)
        let now = queuePolicy.now()
        let cutoff = queuePolicy.limits.maxAgeMilliseconds.map { now - $0 }
        let select = try db.statement(.queueSelectAfter)
        select.bind(1, after)
        select.bind(2, max(0, limit))
        var records: [ForwardRecord] = []
        var expired: [Int64] = []
        var corrupt: [Int64] = []
        do {
            defer { select.reset() }
            while try select.step() {
                let sequence = select.int64(0)
                let enqueuedAt = select.int64(7)
                let expiresAt = select.optionalInt64(8)
                if let expiresAt, expiresAt <= now {
                    expired.append(sequence)
                    continue
                }
                if let cutoff, enqueuedAt <= cutoff {
                    expired.append(sequence)
                    continue
                }
                let properties = select.withBlob(6) { raw in
                    Result { () throws(BlobDecodingError) in try BlobCodec.decodeProperties(raw) }
                }
                guard let qos = QoS(rawValue: UInt8(clamping: select.int64(4))), case .success(let decoded) = properties
                else {
                    logger.error(
                        "Forward queue record \(sequence) is unreadable; deleting it",
                        metadata: ["store.path": "\(db.path)", "store.sequence": "\(sequence)"]
                    )
                    corrupt.append(sequence)
                    continue
                }
                records.append(
                    ForwardRecord(
                        sequence: sequence,
                        rule: select.text(1),
                        topic: select.text(2),
                        payload: select.byteBuffer(3, allocator: allocator),
                        qos: qos,
                        retain: select.int64(5) != 0,
                        properties: decoded,
                        enqueuedAt: enqueuedAt,
                        expiresAt: expiresAt
                    )
                )
            }
        }
        queue.countDrops(try deleteEach(expired), .expired)
        queue.corruptRecords += try deleteEach(corrupt)
        return records
    }

    /// Deletes acknowledged records.
    func remove(_ sequences: [Int64]) throws(SQLiteError) {
        queue.removed += try deleteEach(sequences)
    }

    private func deleteEach(_ sequences: [Int64]) throws(SQLiteError) -> Int {
        guard !sequences.isEmpty else { return 0 }
        let delete = try db.statement(.queueDeleteOne)
        var count = 0
        for sequence in sequences {
            delete.bind(1, sequence)
            let gone = try deleteRows(delete)
            queue.removeRows(count: gone.count, bytes: gone.bytes)
            count += gone.count
        }
        return count
    }
}
