/// How hard SQLite works to make a commit durable (`PRAGMA synchronous`).
public enum SynchronousMode: String, Sendable, CaseIterable {
    /// fsync the WAL at every commit: a commit survives a power cut.
    case full
    /// fsync only at checkpoints: a commit survives a process crash but not a power cut.
    case normal

    /// The value of `PRAGMA synchronous` the store sets for this mode.
    public var pragmaValue: String {
        switch self {
        case .full: "FULL"
        case .normal: "NORMAL"
        }
    }
}

/// How the store opens its database.
public struct StoreOptions: Sendable {

    /// The database file, e.g. `/var/lib/wharf/wharf.db`; its directory must exist.
    public var path: String
    /// Durability of each commit; `.full` by default.
    public var synchronous: SynchronousMode
    /// Caps the file at this many pages (`PRAGMA max_page_count`): simulates a full disk in tests.
    public var maxPageCount: Int?
    /// The most operations one transaction (one group commit) takes.
    public var maxBatch: Int
    /// Bytes of new data (queue records, session messages, retained messages) that may wait in
    /// memory for the writer; beyond it such writes fail with `.backlogFull`.
    public var maxPendingBytes: Int

    /// Creates options for the database at `path`.
    public init(
        path: String,
        synchronous: SynchronousMode = .full,
        maxPageCount: Int? = nil,
        maxBatch: Int = 4096,
        maxPendingBytes: Int = 64 << 20
    ) {
        self.path = path
        self.synchronous = synchronous
        self.maxPageCount = maxPageCount
        self.maxBatch = maxBatch
        self.maxPendingBytes = maxPendingBytes
    }
}

/// What `StoreDatabase.open` found.
public enum OpenOutcome: Sendable, Hashable {
    /// There was no database (or an empty one): the schema was created.
    case fresh
    /// The database was already at the current schema version.
    case existing
    /// The database was at schema version `from` and has been migrated.
    case migrated(from: Int)
    /// The file was corrupt and moved to `movedTo`; a fresh database replaced it.
    case recoveredFromCorruption(movedTo: String)
}
