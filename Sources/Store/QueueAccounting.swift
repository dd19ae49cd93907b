/// The writer's running view of the forward queue, kept in step with the table inside each
/// transaction and restored from a copy when a transaction rolls back.
struct QueueAccounting: Sendable {
    var depth = 0
    var bytes = 0
    var oldestEnqueuedAt: Int64?
    /// Set when rows left the head of the queue; the head is read again before commit.
    var oldestNeedsRefresh = false
    /// The next sequence to assign; never reused, also across restarts (kept in `store_meta`).
    var nextSequence: Int64 = 1
    /// Set when sequences were assigned in this transaction and `store_meta` must follow.
    var sequenceNeedsSaving = false
    var appended = 0
    var removed = 0
    var commits = 0
    var drops: [ForwardDropReason: Int] = [:]
    var corruptRecords = 0
    var writeErrors = 0
    /// Rows and bytes in the dead-letter table.
    var deadLetters = 0
    var deadLetterBytes = 0
    /// Records moved to the dead-letter table since open, by reason code.
    var deadLettered: [UInt8: Int] = [:]
    /// Dead letters deleted since open to keep the table within its bounds.
    var deadLettersDropped = 0

    /// The highest sequence ever assigned (0 when none).
    var lastSequence: Int64 { nextSequence - 1 }

    mutating func countDrops(_ count: Int, _ reason: ForwardDropReason) {
        guard count > 0 else { return }
        drops[reason, default: 0] += count
    }

    /// Accounts for rows that left the table.
    mutating func removeRows(count: Int, bytes: Int) {
        depth = max(0, depth - count)
        self.bytes = max(0, self.bytes - bytes)
        if count > 0 { oldestNeedsRefresh = true }
    }

    var statistics: ForwardQueueStatistics {
        var statistics = ForwardQueueStatistics(
            depth: depth,
            bytes: bytes,
            oldestEnqueuedAt: oldestEnqueuedAt,
            appended: appended,
            removed: removed,
            commits: commits,
            drops: drops,
            corruptRecords: corruptRecords,
            writeErrors: writeErrors
        )
        statistics.deadLetters = deadLetters
        statistics.deadLetterBytes = deadLetterBytes
        statistics.deadLettered = deadLettered
        statistics.deadLettersDropped = deadLettersDropped
        return statistics
    }
}
