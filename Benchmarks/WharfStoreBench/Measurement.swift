/// What one run measured.
struct Measurement: Sendable {
    /// Rows written.
    var rows: Int
    /// Wall seconds from the first write to the last durable commit.
    var seconds: Double
    /// CPU seconds of the whole process meanwhile.
    var cpuSeconds: Double
    /// Transactions committed.
    var commits: Int
    /// Appends that failed (the queue only); the first error's text.
    var failures = 0
    var firstError: String?
    /// CPU seconds of the thread that ran SQLite: the bare loop's, or the store's writer thread.
    var sqliteThreadCPUSeconds: Double?
    /// `INSERT` statements the bare loop stepped (multi-row and one-row); `nil` for the store.
    var insertStatements: Int?

    /// Rows per second.
    var rate: Double { seconds > 0 ? Double(rows - failures) / seconds : 0 }
    /// Average rows per transaction.
    var rowsPerCommit: Double { commits > 0 ? Double(rows - failures) / Double(commits) : 0 }
    /// CPU microseconds per row.
    var cpuMicrosecondsPerRow: Double { rows > 0 ? cpuSeconds / Double(rows) * 1e6 : 0 }
    /// CPU microseconds of the SQLite thread per row.
    var sqliteThreadMicrosecondsPerRow: Double? {
        sqliteThreadCPUSeconds.map { rows > 0 ? $0 / Double(rows) * 1e6 : 0 }
    }
    /// Average rows per `INSERT` statement of the bare loop.
    var rowsPerInsert: Double? { insertStatements.map { $0 > 0 ? Double(rows) / Double($0) : 0 } }
    /// Share of the time the SQLite thread was busy: near 1, that thread sets the pace.
    var sqliteThreadBusy: Double? { sqliteThreadCPUSeconds.map { seconds > 0 ? $0 / seconds : 0 } }
}
