import CSQLite

/// One SQLite connection with its cache of prepared statements.
///
/// Not `Sendable` on purpose: a connection belongs to the store's writer thread and is only
/// ever touched there (see `WriterConfinement`). SQLite is opened with `SQLITE_OPEN_NOMUTEX`
/// because that confinement makes SQLite's own mutexes redundant.
final class SQLiteConnection {
    private var handle: OpaquePointer?
    private var statements: [SQLiteStatement?]
    /// The file this connection opened.
    let path: String

    /// Opens (creating if needed) the database at `path`.
    init(path: String) throws(SQLiteError) {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw SQLiteError(code: rc, message: "cannot open \(path): \(message)")
        }
        sqlite3_extended_result_codes(db, 1)
        self.handle = db
        self.path = path
        self.statements = Array(repeating: nil, count: StatementKey.allCases.count)
    }

    deinit {
        close()
    }

    /// Finalizes every cached statement and closes the connection; later calls fail with `SQLITE_MISUSE`.
    func close() {
        for statement in statements {
            statement?.finalize()
        }
        statements = Array(repeating: nil, count: StatementKey.allCases.count)
        if let handle {
            sqlite3_close_v2(handle)
        }
        handle = nil
    }

    /// Closes without checkpointing, leaving the file and its WAL exactly as they are.
    func closeUntouched() {
        if let handle {
            wharf_sqlite_disable_checkpoint_on_close(handle)
        }
        close()
    }

    /// Whether no transaction is open: after an error this tells whether SQLite rolled it back.
    var isAutocommit: Bool {
        guard let handle else { return true }
        return sqlite3_get_autocommit(handle) != 0
    }

    /// Rows changed by the connection since it opened.
    var totalChanges: Int64 {
        guard let handle else { return 0 }
        return sqlite3_total_changes64(handle)
    }

    /// Runs one or more SQL statements that return no rows the caller needs.
    func execute(_ sql: String) throws(SQLiteError) {
        guard let handle else { throw closedError }
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        defer { sqlite3_free(message) }
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            throw SQLiteError(code: sqlite3_extended_errcode(handle), message: text)
        }
    }

    /// Runs a query and returns every row's columns as text (`nil` for NULL); for pragmas and checks.
    func rows(_ sql: String) throws(SQLiteError) -> [[String?]] {
        let statement = try prepare(sql)
        defer { statement.finalize() }
        var result: [[String?]] = []
        while try statement.step() {
            result.append((0..<statement.columnCount).map { statement.optionalText($0) })
        }
        return result
    }

    /// The first column of the first row as an integer, or `nil` when there is no row or it is NULL.
    func scalar(_ sql: String) throws(SQLiteError) -> Int64? {
        let statement = try prepare(sql)
        defer { statement.finalize() }
        guard try statement.step() else { return nil }
        return statement.optionalInt64(0)
    }

    /// The cached prepared statement for `key`, reset and ready to bind.
    func statement(_ key: StatementKey) throws(SQLiteError) -> SQLiteStatement {
        if let cached = statements[key.rawValue] {
            return cached
        }
        let statement = try prepare(key.sql, persistent: true)
        statements[key.rawValue] = statement
        return statement
    }

    /// Compiles a statement the caller owns and finalizes.
    func prepare(_ sql: String, persistent: Bool = false) throws(SQLiteError) -> SQLiteStatement {
        guard let handle else { throw closedError }
        var statement: OpaquePointer?
        let flags = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        let rc = sqlite3_prepare_v3(handle, sql, -1, flags, &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw SQLiteError(
                code: sqlite3_extended_errcode(handle),
                message: "\(String(cString: sqlite3_errmsg(handle))) in \(sql)"
            )
        }
        return SQLiteStatement(statement, connection: handle)
    }

    private var closedError: SQLiteError {
        SQLiteError(code: SQLITE_MISUSE, message: "connection to \(path) is closed")
    }
}
