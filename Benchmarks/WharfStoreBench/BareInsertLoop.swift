import BenchSupport
import CSQLite
import Store

/// The baseline: SQLite alone inserting rows shaped like the forward queue's, in transactions of
/// `batch` rows, on one thread, with the store's pragmas and nothing else.
///
/// The table is a copy of `forward_queue` (same columns and partial index) and every row binds
/// the same ten values the store binds, the payload without a copy as the store does, so the
/// difference to `ForwardQueue.append` is the store's own cost: queueing, accounting, group
/// commit and completions.
struct BareInsertLoop {
    /// The database file; it must not exist yet.
    var path: String
    /// `PRAGMA synchronous` of the run.
    var synchronous: SynchronousMode

    /// The columns of `forward_queue` in `StoreSchema` version 1.
    static let schema = [
        """
        CREATE TABLE forward_queue (
            seq INTEGER PRIMARY KEY, rule TEXT NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL,
            qos INTEGER NOT NULL, retain INTEGER NOT NULL, properties BLOB, enqueued_at INTEGER NOT NULL,
            expires_at INTEGER, size INTEGER NOT NULL
        )
        """,
        "CREATE INDEX forward_queue_expiry ON forward_queue(expires_at) WHERE expires_at IS NOT NULL",
    ]

    /// Inserts `rows` copies of `sample` in transactions of `batch` rows; times the transactions only.
    func run(rows: Int, batch: Int, sample: SampleRecord) throws(StoreBenchError) -> Measurement {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK, let db = handle else {
            sqlite3_close_v2(handle)
            throw StoreBenchError("cannot open \(path)")
        }
        defer { sqlite3_close_v2(db) }
        let mode = synchronous == .full ? "FULL" : "NORMAL"
        try execute(db, "PRAGMA journal_mode = WAL")
        try execute(db, "PRAGMA synchronous = \(mode)")
        try execute(db, "PRAGMA journal_size_limit = \(32 * 1024 * 1024)")
        for statement in Self.schema { try execute(db, statement) }

        let insert = try prepare(
            db,
            """
            INSERT INTO forward_queue(seq, rule, topic, payload, qos, retain, properties, enqueued_at, expires_at, size)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
            """
        )
        defer { sqlite3_finalize(insert) }
        let begin = try prepare(db, "BEGIN IMMEDIATE")
        defer { sqlite3_finalize(begin) }
        let commit = try prepare(db, "COMMIT")
        defer { sqlite3_finalize(commit) }

        let batch = max(1, batch)
        var sequence: Int64 = 1
        var commits = 0
        let start = ProcessClock.now()
        while sequence <= Int64(rows) {
            try step(db, begin)
            let last = min(Int64(rows), sequence + Int64(batch) - 1)
            while sequence <= last {
                try insertRow(db, insert, sequence: sequence, sample: sample)
                sequence += 1
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
            sqliteThreadCPUSeconds: end.cpu - start.cpu
        )
    }

    private func insertRow(
        _ db: OpaquePointer,
        _ insert: OpaquePointer,
        sequence: Int64,
        sample: SampleRecord
    ) throws(StoreBenchError) {
        sqlite3_bind_int64(insert, 1, sequence)
        bindText(insert, 2, sample.rule)
        bindText(insert, 3, sample.topic)
        sqlite3_bind_int64(insert, 5, 1)
        sqlite3_bind_int(insert, 6, 0)
        sqlite3_bind_null(insert, 7)
        sqlite3_bind_int64(insert, 8, sample.enqueuedAt)
        sqlite3_bind_null(insert, 9)
        sqlite3_bind_int64(insert, 10, Int64(sample.size))
        let rc = sample.payloadBytes.withUnsafeBytes { raw -> Int32 in
            // SQLITE_STATIC (a nil destructor): SQLite reads the bytes in place until the reset below.
            sqlite3_bind_blob(insert, 4, raw.baseAddress, Int32(raw.count), nil)
            let rc = sqlite3_step(insert)
            sqlite3_reset(insert)
            sqlite3_clear_bindings(insert)
            return rc
        }
        guard rc == SQLITE_DONE else { throw failure(db, "INSERT") }
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

    private func prepare(_ db: OpaquePointer, _ sql: String) throws(StoreBenchError) -> OpaquePointer {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
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
