import BenchSupport
import CSQLite
import Store

/// The baseline: SQLite alone inserting rows shaped like the forward queue's, in transactions of
/// `batch` rows, on one thread, with the store's pragmas, statements and nothing else.
///
/// It does the SQLite work the store's writer does per row: the same table (made from the store's
/// own schema), the same multi-row `INSERT` for every full group of
/// ``StoreSQLite/queueInsertGroupRows`` rows of a transaction and the same one-row `INSERT` for
/// the rest, binding the same ten values (the payload without a copy). What it leaves out is the
/// store's own machinery: queueing, accounting, the saved sequence, group commit and completions,
/// which is what a ratio to `ForwardQueue.append` measures.
struct BareInsertLoop {
    /// The database file; it must not exist yet.
    var path: String
    /// `PRAGMA synchronous` of the run.
    var synchronous: SynchronousMode
    /// The statements that create `forward_queue` and its index (``queueSchema(in:)``).
    var schema: [String]

    /// Inserts `rows` copies of `sample` in transactions of `batch` rows; times the transactions only.
    func run(rows: Int, batch: Int, sample: SampleRecord) throws(StoreBenchError) -> Measurement {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK, let db = handle else {
            sqlite3_close_v2(handle)
            throw StoreBenchError("cannot open \(path)")
        }
        defer { sqlite3_close_v2(db) }
        try execute(db, "PRAGMA journal_mode = WAL")
        try execute(db, "PRAGMA synchronous = \(synchronous.pragmaValue)")
        try execute(db, "PRAGMA journal_size_limit = \(StoreSQLite.journalSizeLimit)")
        for statement in schema { try execute(db, statement) }

        let single = try prepare(db, StoreSQLite.queueInsertSQL)
        defer { sqlite3_finalize(single) }
        let group = try prepare(db, StoreSQLite.queueInsertGroupSQL)
        defer { sqlite3_finalize(group) }
        let begin = try prepare(db, "BEGIN IMMEDIATE")
        defer { sqlite3_finalize(begin) }
        let commit = try prepare(db, "COMMIT")
        defer { sqlite3_finalize(commit) }

        let batch = max(1, batch)
        let groupRows = Int64(StoreSQLite.queueInsertGroupRows)
        var sequence: Int64 = 1
        var commits = 0
        var statements = 0
        let start = ProcessClock.now()
        while sequence <= Int64(rows) {
            try step(db, begin)
            let end = min(Int64(rows), sequence + Int64(batch) - 1) + 1
            // As the store's writer does with a batch of appends: full groups first, then one by one.
            while end - sequence >= groupRows {
                try insertGroup(db, group, first: sequence, sample: sample)
                sequence += groupRows
                statements += 1
            }
            while sequence < end {
                try insertRow(db, single, sequence: sequence, sample: sample)
                sequence += 1
                statements += 1
            }
            try step(db, commit)
            commits += 1
        }
        let end = ProcessClock.now()
        // The loop is the process's only busy thread, so the process's CPU is the SQLite thread's.
        return Measurement(
            rows: rows,
            seconds: end.wall - start.wall,
            cpuSeconds: end.cpu - start.cpu,
            commits: commits,
            sqliteThreadCPUSeconds: end.cpu - start.cpu,
            insertStatements: statements
        )
    }

    /// Binds every value but the payload of the row at `row` (from 0) of `statement`.
    private func bindRow(_ statement: OpaquePointer, row: Int32, sequence: Int64, sample: SampleRecord) {
        let base = row * 10
        sqlite3_bind_int64(statement, base + 1, sequence)
        bindText(statement, base + 2, sample.rule)
        bindText(statement, base + 3, sample.topic)
        sqlite3_bind_int64(statement, base + 5, 1)
        sqlite3_bind_int(statement, base + 6, 0)
        sqlite3_bind_null(statement, base + 7)
        sqlite3_bind_int64(statement, base + 8, sample.enqueuedAt)
        sqlite3_bind_null(statement, base + 9)
        sqlite3_bind_int64(statement, base + 10, Int64(sample.size))
    }

    private func insertRow(
        _ db: OpaquePointer,
        _ insert: OpaquePointer,
        sequence: Int64,
        sample: SampleRecord
    ) throws(StoreBenchError) {
        bindRow(insert, row: 0, sequence: sequence, sample: sample)
        let rc = sample.payloadBytes.withUnsafeBytes { raw -> Int32 in
            // SQLITE_STATIC (a nil destructor): SQLite reads the bytes in place until the reset below.
            sqlite3_bind_blob(insert, 4, raw.baseAddress, Int32(raw.count), nil)
            return stepAndClear(insert)
        }
        guard rc == SQLITE_DONE else { throw failure(db, "INSERT") }
    }

    private func insertGroup(
        _ db: OpaquePointer,
        _ insert: OpaquePointer,
        first: Int64,
        sample: SampleRecord
    ) throws(StoreBenchError) {
        let rows = Int32(StoreSQLite.queueInsertGroupRows)
        for row in 0..<rows {
            bindRow(insert, row: row, sequence: first + Int64(row), sample: sample)
        }
        let rc = sample.payloadBytes.withUnsafeBytes { raw -> Int32 in
            // Every row borrows the same bytes in place (SQLITE_STATIC), as each of the store's rows
            // borrows its record's buffer, until the reset below.
            for row in 0..<rows {
                sqlite3_bind_blob(insert, row * 10 + 4, raw.baseAddress, Int32(raw.count), nil)
            }
            return stepAndClear(insert)
        }
        guard rc == SQLITE_DONE else { throw failure(db, "INSERT of \(rows) rows") }
    }

    /// Steps `statement` once, then resets it and clears its bindings, as the store's statements do.
    private func stepAndClear(_ statement: OpaquePointer) -> Int32 {
        let rc = sqlite3_step(statement)
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        return rc
    }

    private func bindText(_ statement: OpaquePointer, _ index: Int32, _ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            _ = sqlite3_bind_text(statement, index, utf8.baseAddress, Int32(utf8.count), wharf_sqlite_transient())
        }
    }

    private func execute(_ db: OpaquePointer, _ sql: String) throws(StoreBenchError) {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw failure(db, sql) }
    }

    /// Prepares as the store does: once, with `SQLITE_PREPARE_PERSISTENT`.
    private func prepare(_ db: OpaquePointer, _ sql: String) throws(StoreBenchError) -> OpaquePointer {
        var statement: OpaquePointer?
        let flags = UInt32(SQLITE_PREPARE_PERSISTENT)
        guard sqlite3_prepare_v3(db, sql, -1, flags, &statement, nil) == SQLITE_OK, let statement else {
            throw failure(db, sql)
        }
        return statement
    }

    private func step(_ db: OpaquePointer, _ statement: OpaquePointer) throws(StoreBenchError) {
        let rc = sqlite3_step(statement)
        sqlite3_reset(statement)
        guard rc == SQLITE_DONE else { throw failure(db, "step") }
    }

    private func failure(_ db: OpaquePointer, _ what: String) -> StoreBenchError {
        StoreBenchError("\(path): \(what): \(String(cString: sqlite3_errmsg(db)))")
    }
}
