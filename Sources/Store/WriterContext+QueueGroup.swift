import NIOCore
import WharfCore

/// Runs of forward-queue appends written with one multi-row `INSERT`.
extension WriterContext {
    /// The end of the run of appends at `start` that may go into one group: at most
    /// ``StoreSQLite/queueInsertGroupRows`` long, before `end`, and never including `avoiding`
    /// (an append that must make room first, which takes the one-by-one path).
    func appendRunEnd(
        _ operations: ArraySlice<WriteOperation>,
        from start: Int,
        before end: Int,
        avoiding: Int?
    ) -> Int {
        let limit = min(end, start + StoreSQLite.queueInsertGroupRows)
        var index = start
        while index < limit, index != avoiding, case .append = operations[index] {
            index += 1
        }
        return index
    }

    /// Appends every record of `operations` (all `.append`) with one statement when they all fit
    /// the byte bound as they are, adding their deliveries; returns `false` without touching
    /// anything when they do not, so that the one-by-one path applies purges and overflow policies.
    ///
    /// A failure leaves the transaction to the caller, which rolls it back and redoes the batch
    /// one record at a time, where each failure is pinned to its own record.
    func appendGroup(
        _ operations: ArraySlice<WriteOperation>,
        into deliveries: inout [Delivery]
    ) throws(SQLiteError) -> Bool {
        guard operations.count == StoreSQLite.queueInsertGroupRows else { return false }
        let statement = try db.statement(.queueInsertGroup)
        let first = queue.nextSequence
        var total = 0
        var maxBytes = Int.max
        var enqueuedAt: Int64?
        var payloads: [ByteBuffer] = []
        payloads.reserveCapacity(operations.count)
        var row: Int32 = 0
        for operation in operations {
            guard case .append(let prepared, _, let queuePolicy, _) = operation else {
                statement.reset()
                return false
            }
            total += prepared.size
            maxBytes = min(maxBytes, queuePolicy.limits.maxBytes)
            if enqueuedAt == nil { enqueuedAt = prepared.enqueuedAt }
            let base = row * 10
            statement.bind(base + 1, first + Int64(row))
            statement.bind(base + 2, prepared.rule)
            statement.bind(base + 3, prepared.topic)
            statement.bind(base + 5, Int64(prepared.qos.rawValue))
            statement.bind(base + 6, prepared.retain)
            statement.bind(base + 7, prepared.properties)
            statement.bind(base + 8, prepared.enqueuedAt)
            statement.bind(base + 9, prepared.expiresAt)
            statement.bind(base + 10, prepared.size)
            payloads.append(prepared.payload)
            row += 1
        }
        guard queue.bytes + total <= maxBytes else {
            statement.reset()
            return false
        }
        try Self.run(statement, payloads: payloads[...])

        if queue.depth == 0 || queue.oldestEnqueuedAt == nil {
            queue.oldestEnqueuedAt = enqueuedAt
        }
        var sequence = first
        for operation in operations {
            guard case .append(_, _, _, let completion) = operation else { continue }
            deliveries.append(.sequence(completion, .success(sequence)))
            sequence += 1
        }
        queue.depth += operations.count
        queue.bytes += total
        queue.appended += operations.count
        queue.nextSequence = sequence
        queue.sequenceNeedsSaving = true
        return true
    }

    /// Binds the payloads in place, one nested scope per row so that every pointer stays valid
    /// while the statement steps, then runs it (which clears the bindings before the scopes end).
    private static func run(_ statement: SQLiteStatement, payloads: ArraySlice<ByteBuffer>) throws(SQLiteError) {
        guard let payload = payloads.first else {
            try statement.run()
            return
        }
        let column = Int32((payloads.startIndex) * 10 + 4)
        let outcome = payload.withUnsafeReadableBytes { raw -> Result<Void, SQLiteError> in
            statement.bindBorrowed(column, raw)
            do throws(SQLiteError) {
                try run(statement, payloads: payloads.dropFirst())
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try outcome.get()
    }
}
