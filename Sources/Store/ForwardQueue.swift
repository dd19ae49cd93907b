/// The durable store-and-forward queue between uplink rules and the uplink client.
///
/// Records keep append order (one increasing sequence for all rules); the queue is bounded by
/// bytes and by age, and every drop is counted by reason in `statistics`.
public final class ForwardQueue: Sendable {
    /// The database the queue lives in.
    public let database: StoreDatabase
    private let policy: QueuePolicy
    /// The bounds of the dead-letter table.
    public let deadLetterLimits: DeadLetterLimits

    /// Creates the queue over `database`'s queue table; `now` reads wall-clock milliseconds.
    public init(
        database: StoreDatabase,
        limits: ForwardQueueLimits,
        deadLetterLimits: DeadLetterLimits = DeadLetterLimits(),
        now: @escaping @Sendable () -> Int64
    ) {
        self.database = database
        self.policy = QueuePolicy(limits: limits, now: now)
        self.deadLetterLimits = deadLetterLimits
    }

    /// Appends `record` durably, committed together with whatever else is pending (group commit).
    ///
    /// `completion` runs on the store's writer thread (keep it tiny) once the record is durable,
    /// with its sequence, or with `.queueFull` (reject-new at the byte bound, after purging expired
    /// records), `.diskFull` (SQLite reported SQLITE_FULL; with drop-oldest, oldest records were
    /// dropped to make room and the insert retried once first), or another error.
    public func append(
        _ record: NewForwardRecord,
        policy: OverflowPolicy,
        completion: @escaping @Sendable (Result<Int64, StoreError>) -> Void
    ) {
        database.writer.submit(.append(PreparedAppend(record), policy, self.policy, completion))
    }

    /// Appends `record` and returns its sequence once it is durable.
    public func append(_ record: NewForwardRecord, policy: OverflowPolicy) async throws(StoreError) -> Int64 {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<Int64, StoreError>, Never>) in
            append(record, policy: policy) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Up to `limit` records with a sequence above `after`, oldest first. Expired records are
    /// deleted and counted instead of returned; unreadable ones are deleted and logged.
    public func read(after: Int64, limit: Int) async throws(StoreError) -> [ForwardRecord] {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<[ForwardRecord], StoreError>, Never>) in
            database.writer.submit(.read(after: after, limit: limit, policy) { continuation.resume(returning: $0) })
        }
        return try result.get()
    }

    /// Deletes records the cloud acknowledged; returns once the deletion is committed.
    public func remove(_ sequences: [Int64]) async throws(StoreError) {
        guard !sequences.isEmpty else { return }
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<Void, StoreError>, Never>) in
            remove(sequences) { continuation.resume(returning: $0) }
        }
        try result.get()
    }

    /// Deletes acknowledged records in the next commit; `completion` runs on the writer thread.
    public func remove(
        _ sequences: [Int64],
        completion: @escaping @Sendable (Result<Void, StoreError>) -> Void = { _ in }
    ) {
        database.writer.submit(.remove(sequences, completion))
    }

    /// Deletes every record past its TTL or MQTT expiry now; returns how many went.
    @discardableResult
    public func purgeExpired() async throws(StoreError) -> Int {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<Int, StoreError>, Never>) in
            database.writer.submit(.purgeExpired(policy) { continuation.resume(returning: $0) })
        }
        return try result.get()
    }

    /// Returns once a record with a sequence above `after` is durable, the database closes, or
    /// the task is cancelled; lets the uplink sleep while the queue is empty.
    public func waitForAppend(after: Int64) async {
        await database.writer.shared.waitForAppend(after: after)
    }

    /// The highest sequence committed so far (0 when none ever was).
    public var lastSequence: Int64 { database.writer.shared.lastSequence }

    /// Depth, bytes, age of the head, and counters since open.
    public var statistics: ForwardQueueStatistics { database.writer.shared.statistics }
}
