public import Logging
import NIOPosix
import Synchronization

/// Wharf's durable store: one SQLite file in WAL mode, written by one dedicated thread that
/// commits whatever queue and broker-state writes are pending in one transaction (group commit).
///
/// Blocking SQLite calls run only on that thread, never on an event loop or the concurrency pool.
public final class StoreDatabase: Sendable {
    /// What happened at open, for logs and metrics.
    public let openOutcome: OpenOutcome
    /// The options the database was opened with.
    public let options: StoreOptions
    let writer: StoreWriter
    let logger: Logger

    private init(options: StoreOptions, outcome: OpenOutcome, writer: StoreWriter, logger: Logger) {
        self.options = options
        self.openOutcome = outcome
        self.writer = writer
        self.logger = logger
    }

    /// Opens (creating) the database, enables WAL, checks it and runs schema migrations.
    ///
    /// A corrupt file (`SQLITE_CORRUPT` / `SQLITE_NOTADB` at open or at `PRAGMA quick_check`) is
    /// moved with its `-wal`/`-shm` to `<path>.corrupt-<unix time>`, one error line names both
    /// paths, and a fresh database takes its place. A file with a newer schema is refused with
    /// `.unsupportedVersion` and left untouched.
    public static func open(
        _ options: StoreOptions,
        logger: Logger = Logger(label: "wharf.store")
    ) async throws(StoreError) -> StoreDatabase {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let confinement = WriterConfinement()
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<OpenReport, StoreError>, Never>) in
            pool.submit { state in
                guard case .active = state else {
                    continuation.resume(returning: .failure(.closed))
                    return
                }
                continuation.resume(returning: StoreOpener.open(options, logger: logger, into: confinement))
            }
        }
        switch result {
        case .success(let report):
            let writer = StoreWriter(
                pool: pool,
                confinement: confinement,
                shared: report.shared,
                nextMessageID: report.nextMessageID,
                maxBatch: options.maxBatch,
                maxPendingBytes: options.maxPendingBytes
            )
            logger.info(
                "Opened store database",
                metadata: ["store.path": "\(options.path)", "store.outcome": "\(report.outcome)"]
            )
            return StoreDatabase(options: options, outcome: report.outcome, writer: writer, logger: logger)
        case .failure(let error):
            try? await pool.shutdownGracefully()
            throw error
        }
    }

    /// Commits everything submitted so far, closes the file and stops the writer thread.
    /// Later operations fail with `.closed`.
    public func close() async {
        await writer.close()
    }

    /// Bytes of data waiting in memory for the writer now (submitted, not yet committed).
    public var pendingBytes: Int { writer.pendingBytes }

    /// Writes refused since open because `maxPendingBytes` were waiting (`.backlogFull`).
    public var refusedForBacklog: Int { writer.refusedForBacklog.load(ordering: .relaxed) }

    /// Returns once everything submitted so far (queue and broker writes) is durable.
    public func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            writer.submit(.flush { continuation.resume() })
        }
    }
}
