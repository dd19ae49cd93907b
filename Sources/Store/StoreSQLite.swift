/// How the store drives SQLite when it writes the forward queue, public so that a bare SQLite
/// loop (the store benchmark's baseline) can do the same work per row from the same values.
public enum StoreSQLite {
    /// Rows per multi-row `INSERT` into the forward queue: one statement step per group saves SQLite
    /// about a quarter of its per-row work against one step per row. A batch's appends go in groups
    /// of exactly this many; the rest of the batch goes one row at a time with ``queueInsertSQL``.
    public static let queueInsertGroupRows = 32

    /// `PRAGMA journal_size_limit` in bytes: the WAL file is truncated back to this after a checkpoint.
    public static let journalSizeLimit = 32 * 1024 * 1024

    /// The one-row `INSERT` into `forward_queue`: parameters `?1`…`?10` are `seq, rule, topic,
    /// payload, qos, retain, properties, enqueued_at, expires_at, size`.
    public static let queueInsertSQL = """
        INSERT INTO forward_queue(seq, rule, topic, payload, qos, retain, properties, enqueued_at, expires_at, size)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
        """

    /// `INSERT ... VALUES (?1, ..., ?10), (?11, ..., ?20), ...` for ``queueInsertGroupRows`` rows:
    /// row `r` (from 0) binds the columns of ``queueInsertSQL`` at `r * 10 + 1` through `r * 10 + 10`.
    public static let queueInsertGroupSQL: String = {
        let rows = (0..<queueInsertGroupRows).map { row in
            "(" + (1...10).map { "?\(row * 10 + $0)" }.joined(separator: ", ") + ")"
        }
        return
            "INSERT INTO forward_queue(seq, rule, topic, payload, qos, retain, properties, enqueued_at, expires_at, size) "
            + "VALUES " + rows.joined(separator: ", ")
    }()
}
