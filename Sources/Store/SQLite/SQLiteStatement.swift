import CSQLite
import NIOCore

/// A prepared statement: binding, stepping and reading columns with SQLite's 1-based parameters
/// and 0-based columns. Confined to the connection's thread like its connection.
final class SQLiteStatement {
    private var handle: OpaquePointer?
    private let connection: OpaquePointer

    init(_ handle: OpaquePointer, connection: OpaquePointer) {
        self.handle = handle
        self.connection = connection
    }

    deinit {
        finalize()
    }

    /// Releases the compiled statement.
    func finalize() {
        if let handle {
            sqlite3_finalize(handle)
        }
        handle = nil
    }

    /// Makes the statement ready to run again and drops its bindings.
    func reset() {
        guard let handle else { return }
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Advances to the next row: `true` when a row is available, `false` when done.
    func step() throws(SQLiteError) -> Bool {
        guard let handle else {
            throw SQLiteError(code: SQLITE_MISUSE, message: "statement used after finalize")
        }
        switch sqlite3_step(handle) {
        case SQLITE_ROW:
            return true
        case SQLITE_DONE:
            return false
        default:
            // sqlite3_reset returns the same error; the extended code comes from the connection.
            sqlite3_reset(handle)
            throw SQLiteError(
                code: sqlite3_extended_errcode(connection),
                message: String(cString: sqlite3_errmsg(connection))
            )
        }
    }

    /// Steps through a statement that returns no rows, then resets it.
    func run() throws(SQLiteError) {
        defer { reset() }
        while try step() {}
    }

    // MARK: Binding

    func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(handle, index, value)
    }

    func bind(_ index: Int32, _ value: Int64?) {
        if let value {
            sqlite3_bind_int64(handle, index, value)
        } else {
            sqlite3_bind_null(handle, index)
        }
    }

    func bind(_ index: Int32, _ value: Int) {
        sqlite3_bind_int64(handle, index, Int64(value))
    }

    func bind(_ index: Int32, _ value: Bool) {
        sqlite3_bind_int(handle, index, value ? 1 : 0)
    }

    /// Binds text; SQLite copies it, as a Swift string's storage may move after the call.
    func bind(_ index: Int32, _ value: String) {
        var value = value
        _ = value.withUTF8 { utf8 in
            if let base = utf8.baseAddress, !utf8.isEmpty {
                sqlite3_bind_text(handle, index, base, Int32(utf8.count), wharf_sqlite_transient())
            } else {
                // A NULL pointer would bind SQL NULL; an empty string must stay an empty string.
                sqlite3_bind_text(handle, index, "", 0, wharf_sqlite_transient())
            }
        }
    }

    /// Binds a blob that SQLite copies, or NULL for `nil`.
    /// Binds text, or SQL NULL for `nil`.
    func bind(_ index: Int32, _ value: String?) {
        if let value {
            bind(index, value)
        } else {
            sqlite3_bind_null(handle, index)
        }
    }

    func bind(_ index: Int32, _ bytes: [UInt8]?) {
        guard let bytes else {
            sqlite3_bind_null(handle, index)
            return
        }
        _ = bytes.withUnsafeBytes { raw in
            if let base = raw.baseAddress, !raw.isEmpty {
                sqlite3_bind_blob(handle, index, base, Int32(raw.count), wharf_sqlite_transient())
            } else {
                sqlite3_bind_zeroblob(handle, index, 0)
            }
        }
    }

    /// Binds `raw` without copying it (`SQLITE_STATIC`). SQLite reads the bytes until the statement is
    /// reset with its bindings cleared (``run()`` and ``reset()`` do both), which the caller must
    /// make happen before `raw` goes out of scope.
    func bindBorrowed(_ index: Int32, _ raw: UnsafeRawBufferPointer) {
        if let base = raw.baseAddress, !raw.isEmpty {
            sqlite3_bind_blob(handle, index, base, Int32(raw.count), nil)
        } else {
            sqlite3_bind_zeroblob(handle, index, 0)
        }
    }

    /// Binds `buffer`'s readable bytes without copying them and runs `body` (which steps the statement).
    ///
    /// SQLite reads a `SQLITE_STATIC` blob until the statement is reset or rebound, so the binding is
    /// replaced by NULL before the buffer's pointer goes out of scope: it is never used dangling.
    func withBlob<Result>(
        _ index: Int32,
        _ buffer: ByteBuffer,
        _ body: () throws(SQLiteError) -> Result
    ) throws(SQLiteError) -> Result {
        let outcome: Swift.Result<Result, SQLiteError> = buffer.withUnsafeReadableBytes { raw in
            if let base = raw.baseAddress, !raw.isEmpty {
                // A nil destructor is SQLITE_STATIC: SQLite does not copy and does not free.
                sqlite3_bind_blob(handle, index, base, Int32(raw.count), nil)
            } else {
                sqlite3_bind_zeroblob(handle, index, 0)
            }
            defer {
                // Binding needs a reset statement; the body has consumed every row by now.
                sqlite3_reset(handle)
                sqlite3_bind_null(handle, index)
            }
            do throws(SQLiteError) {
                return .success(try body())
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }

    // MARK: Columns

    var columnCount: Int32 { sqlite3_column_count(handle) }

    func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    func optionalInt64(_ column: Int32) -> Int64? {
        isNull(column) ? nil : sqlite3_column_int64(handle, column)
    }

    func text(_ column: Int32) -> String {
        optionalText(column) ?? ""
    }

    func optionalText(_ column: Int32) -> String? {
        guard let text = sqlite3_column_text(handle, column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// Runs `body` over the column's bytes (empty for NULL); the pointer is valid only inside.
    func withBlob<Result>(_ column: Int32, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        let base = sqlite3_column_blob(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        return body(UnsafeRawBufferPointer(start: count > 0 ? base : nil, count: base == nil ? 0 : count))
    }

    func bytes(_ column: Int32) -> [UInt8]? {
        if isNull(column) { return nil }
        return withBlob(column) { Array($0) }
    }

    func byteBuffer(_ column: Int32, allocator: ByteBufferAllocator) -> ByteBuffer {
        withBlob(column) { raw in
            var buffer = allocator.buffer(capacity: raw.count)
            buffer.writeBytes(raw)
            return buffer
        }
    }
}
