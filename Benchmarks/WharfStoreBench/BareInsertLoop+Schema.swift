import CSQLite
import Logging
import Store

extension BareInsertLoop {
    /// The statements that created `forward_queue` and its index in a store freshly opened in a
    /// scratch directory under `dir`, in the order SQLite recorded them: the bare loop's table is
    /// then the store's, whatever later versions of the schema do to it.
    static func queueSchema(in dir: String) async throws(StoreBenchError) -> [String] {
        let scratch = try ScratchDirectory(in: dir)
        defer { scratch.remove() }
        var logger = Logger(label: "wharf.store-bench")
        logger.logLevel = .warning
        do {
            let database = try await StoreDatabase.open(StoreOptions(path: scratch.databasePath), logger: logger)
            await database.close()
        } catch {
            throw StoreBenchError("cannot open a store at \(scratch.databasePath): \(error)")
        }

        var handle: OpaquePointer?
        guard sqlite3_open_v2(scratch.databasePath, &handle, SQLITE_OPEN_READONLY, nil) == SQLITE_OK, let db = handle
        else {
            sqlite3_close_v2(handle)
            throw StoreBenchError("cannot reopen \(scratch.databasePath)")
        }
        defer { sqlite3_close_v2(db) }
        var query: OpaquePointer?
        let sql = "SELECT sql FROM sqlite_master WHERE tbl_name = 'forward_queue' AND sql IS NOT NULL ORDER BY rowid"
        guard sqlite3_prepare_v2(db, sql, -1, &query, nil) == SQLITE_OK, let query else {
            throw StoreBenchError("\(scratch.databasePath): \(String(cString: sqlite3_errmsg(db)))")
        }
        defer { sqlite3_finalize(query) }
        var statements: [String] = []
        while sqlite3_step(query) == SQLITE_ROW {
            if let text = sqlite3_column_text(query, 0) { statements.append(String(cString: text)) }
        }
        guard statements.contains(where: { $0.hasPrefix("CREATE TABLE") }) else {
            throw StoreBenchError("\(scratch.databasePath) has no forward_queue table")
        }
        return statements
    }
}
