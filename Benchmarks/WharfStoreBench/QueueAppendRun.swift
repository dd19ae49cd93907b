import BenchSupport
import Logging
import Store

/// `ForwardQueue.append` on a fresh store, as the broker drives it.
struct QueueAppendRun {
    /// The database file; it must not exist yet.
    var path: String
    /// The store's `synchronous` setting.
    var synchronous: SynchronousMode
    /// The record every append writes.
    var sample: SampleRecord

    /// A backlog bound that no run reaches (1 TiB), so that the store refuses no append.
    static let unboundedBacklog = 1 << 40

    /// `rows` appends submitted at once from `producers` concurrent tasks, without waiting for
    /// any: the writer commits whatever is pending, up to the store's batch limit, per transaction.
    func unbounded(rows: Int, producers: Int) async throws(StoreBenchError) -> Measurement {
        try await withQueue { queue in
            let countdown = Countdown(rows)
            let record = sample.queueRecord
            let start = ProcessClock.now()
            await withTaskGroup(of: Void.self) { group in
                for share in shares(of: rows, among: producers) {
                    group.addTask {
                        for _ in 0..<share {
                            queue.append(record, policy: .dropOldest) { countdown.complete($0) }
                        }
                    }
                }
            }
            let outcome = await countdown.wait()
            return Measurement(
                rows: rows,
                seconds: outcome.finishedAt - start.wall,
                cpuSeconds: ProcessClock.now().cpu - start.cpu,
                commits: 0,
                failures: outcome.failures,
                firstError: outcome.firstError
            )
        }
    }

    /// `rows` appends from `producers` publishers, each with at most `window` appends waiting to
    /// be durable (window 1: each waits for its append before the next, as a publisher waiting
    /// for PUBACK does).
    func publishers(rows: Int, producers: Int, window: Int) async throws(StoreBenchError) -> Measurement {
        try await withQueue { queue in
            let record = sample.queueRecord
            let start = ProcessClock.now()
            // A publisher with a window of W behaves as W sequential senders.
            let outcomes = await withTaskGroup(of: (Int, String?).self) { group in
                for share in shares(of: rows, among: producers * window) {
                    group.addTask {
                        var failures = 0
                        var firstError: String?
                        for _ in 0..<share {
                            do throws(StoreError) {
                                _ = try await queue.append(record, policy: .dropOldest)
                            } catch {
                                failures += 1
                                if firstError == nil { firstError = error.description }
                            }
                        }
                        return (failures, firstError)
                    }
                }
                var all: [(Int, String?)] = []
                for await outcome in group { all.append(outcome) }
                return all
            }
            let end = ProcessClock.now()
            return Measurement(
                rows: rows,
                seconds: end.wall - start.wall,
                cpuSeconds: end.cpu - start.cpu,
                commits: 0,
                failures: outcomes.reduce(0) { $0 + $1.0 },
                firstError: outcomes.lazy.compactMap(\.1).first
            )
        }
    }

    /// Opens a fresh store, runs `body`, fills in the commits it made and closes the store.
    private func withQueue(
        _ body: (ForwardQueue) async -> Measurement
    ) async throws(StoreBenchError) -> Measurement {
        var logger = Logger(label: "wharf.store-bench")
        logger.logLevel = .warning
        let database: StoreDatabase
        do {
            // The all-at-once case submits every row before the first commit, far more than the
            // default `storage.max_pending_bytes`; refused appends would be counted as fast ones.
            let options = StoreOptions(path: path, synchronous: synchronous, maxPendingBytes: Self.unboundedBacklog)
            database = try await StoreDatabase.open(options, logger: logger)
        } catch {
            throw StoreBenchError("cannot open the store at \(path): \(error)")
        }
        let queue = ForwardQueue(database: database, limits: ForwardQueueLimits(maxBytes: 1 << 30), now: { 0 })
        let before = queue.statistics
        let writerBefore = WriterThreadCPU.seconds()
        var measurement = await body(queue)
        let writerAfter = WriterThreadCPU.seconds()
        let after = queue.statistics
        measurement.commits = after.commits - before.commits
        if let writerBefore, let writerAfter { measurement.sqliteThreadCPUSeconds = writerAfter - writerBefore }
        let written = after.appended - before.appended
        await database.close()
        if written != measurement.rows - measurement.failures {
            throw StoreBenchError(
                "the queue counted \(written) appends, expected \(measurement.rows - measurement.failures)")
        }
        return measurement
    }

    /// `total` split into `parts` near-equal shares.
    private func shares(of total: Int, among parts: Int) -> [Int] {
        let parts = max(1, parts)
        return (0..<parts).map { total / parts + ($0 < total % parts ? 1 : 0) }
    }
}
