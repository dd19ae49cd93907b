import CSQLite

/// An error SQLite reported: the extended result code and the connection's message.
struct SQLiteError: Error, CustomStringConvertible {
    /// The extended result code (`SQLITE_FULL`, `SQLITE_IOERR_FSYNC`, ...).
    var code: Int32
    /// What SQLite said, or what Wharf was doing when it failed.
    var message: String

    /// The primary result code: the low byte of the extended one.
    var primaryCode: Int32 { code & 0xff }

    /// Whether the database or the disk ran out of room (`SQLITE_FULL`).
    var isFull: Bool { primaryCode == SQLITE_FULL }

    /// Whether the file is damaged or not a database at all.
    var isCorrupt: Bool { primaryCode == SQLITE_CORRUPT || primaryCode == SQLITE_NOTADB }

    var description: String { "\(message) (SQLite code \(code))" }

    /// The same failure as the store reports it.
    var storeError: StoreError {
        if isFull {
            return StoreError(.diskFull, description)
        }
        if isCorrupt {
            return StoreError(.corrupt, description)
        }
        return StoreError(.io, description)
    }
}
