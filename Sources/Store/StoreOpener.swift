import CSQLite
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What opening found, handed from the writer thread to `StoreDatabase.open`.
struct OpenReport: Sendable {
    var outcome: OpenOutcome
    var shared: StoreShared
    var nextMessageID: Int64
}

/// Opens, checks and migrates the database on the writer thread, moving a corrupt file aside.
enum StoreOpener {
    /// Runs on the writer thread; the context it stores never leaves that thread.
    static func open(
        _ options: StoreOptions,
        logger: Logger,
        into confinement: WriterConfinement
    ) -> Result<OpenReport, StoreError> {
        do throws(StoreError) {
            let opened: Opened
            do throws(StoreError) {
                opened = try openOnce(options, logger: logger)
            } catch  where error.kind == .corrupt {
                let movedTo = try moveAside(options.path)
                logger.error(
                    "Store database \(options.path) is corrupt (\(error.message)); moved it to \(movedTo) and started a fresh database",
                    metadata: ["store.path": "\(options.path)", "store.moved_to": "\(movedTo)"]
                )
                opened = try openOnce(options, logger: logger)
                opened.outcome = .recoveredFromCorruption(movedTo: movedTo)
            }
            let shared = StoreShared(opened.accounting)
            confinement.context = WriterContext(
                db: opened.db,
                logger: logger,
                shared: shared,
                queue: opened.accounting
            )
            return .success(OpenReport(outcome: opened.outcome, shared: shared, nextMessageID: opened.nextMessageID))
        } catch {
            return .failure(error)
        }
    }

    private final class Opened {
        let db: SQLiteConnection
        var outcome: OpenOutcome
        var accounting: QueueAccounting
        var nextMessageID: Int64

        init(db: SQLiteConnection, outcome: OpenOutcome, accounting: QueueAccounting, nextMessageID: Int64) {
            self.db = db
            self.outcome = outcome
            self.accounting = accounting
            self.nextMessageID = nextMessageID
        }
    }

    private static func openOnce(_ options: StoreOptions, logger: Logger) throws(StoreError) -> Opened {
        let db: SQLiteConnection
        do throws(SQLiteError) {
            db = try SQLiteConnection(path: options.path)
        } catch {
            throw StoreError(.io, error.description)
        }
        do throws(StoreError) {
            try configure(db, options, logger: logger)
            let outcome = try migrate(db)
            let (accounting, nextMessageID) = try load(db)
            return Opened(db: db, outcome: outcome, accounting: accounting, nextMessageID: nextMessageID)
        } catch {
            if error.kind == .corrupt {
                db.closeUntouched()
            } else {
                db.close()
            }
            throw error
        }
    }

    private static func configure(_ db: SQLiteConnection, _ options: StoreOptions, logger: Logger) throws(StoreError) {
        do throws(SQLiteError) {
            // The first statement reads the header: garbage fails here with SQLITE_NOTADB.
            let mode = try db.rows("PRAGMA journal_mode = WAL").first?.first ?? nil
            if mode?.lowercased() != "wal" {
                logger.warning(
                    "Store database is not in WAL mode (journal_mode \(mode ?? "unknown"))",
                    metadata: ["store.path": "\(options.path)"]
                )
            }
            try db.execute("PRAGMA synchronous = \(options.synchronous.pragmaValue)")
            try db.execute("PRAGMA busy_timeout = 5000")
            try db.execute("PRAGMA journal_size_limit = \(StoreSQLite.journalSizeLimit)")
            if let maxPageCount = options.maxPageCount {
                _ = try db.rows("PRAGMA max_page_count = \(maxPageCount)")
            }
            let check = try db.rows("PRAGMA quick_check")
            if check.count != 1 || check.first?.first != "ok" {
                let findings = check.prefix(3).map { $0.compactMap { $0 }.joined(separator: " ") }
                throw SQLiteError(code: SQLITE_CORRUPT, message: "quick_check: \(findings.joined(separator: "; "))")
            }
        } catch {
            throw error.storeError
        }
    }

    /// Applies every migration newer than the file's `user_version`, each in its own transaction.
    private static func migrate(_ db: SQLiteConnection) throws(StoreError) -> OpenOutcome {
        let found: Int
        do throws(SQLiteError) {
            found = Int(try db.scalar("PRAGMA user_version") ?? 0)
        } catch {
            throw error.storeError
        }
        let current = StoreSchema.currentVersion
        guard found <= current else {
            throw StoreError(
                .unsupportedVersion,
                "\(db.path) has schema version \(found) but this wharfd knows only up to \(current); "
                    + "refusing to open it (run a newer wharfd, or move the file away to start empty)"
            )
        }
        for migration in StoreSchema.migrations where migration.version > found {
            do throws(SQLiteError) {
                try db.execute("BEGIN IMMEDIATE")
                for statement in migration.statements {
                    try db.execute(statement)
                }
                try db.execute("PRAGMA user_version = \(migration.version)")
                try db.execute("COMMIT")
            } catch {
                if !db.isAutocommit { try? db.execute("ROLLBACK") }
                throw StoreError(
                    error.storeError.kind,
                    "migrating \(db.path) to schema version \(migration.version) failed: \(error)"
                )
            }
        }
        if found == 0 { return .fresh }
        return found < current ? .migrated(from: found) : .existing
    }

    private static func load(_ db: SQLiteConnection) throws(StoreError) -> (QueueAccounting, Int64) {
        do throws(SQLiteError) {
            var accounting = QueueAccounting()
            let totals = try db.prepare(
                "SELECT count(*), coalesce(sum(size), 0), coalesce(max(seq), 0) FROM forward_queue")
            defer { totals.finalize() }
            if try totals.step() {
                accounting.depth = Int(totals.int64(0))
                accounting.bytes = Int(totals.int64(1))
                let saved = try db.scalar("SELECT value FROM store_meta WHERE key = '\(StoreMeta.lastSequenceKey)'")
                accounting.nextSequence = max(totals.int64(2), saved ?? 0) + 1
            }
            accounting.oldestEnqueuedAt = try db.scalar(StatementKey.queueOldest.sql)
            accounting.deadLetters = Int(try db.scalar("SELECT count(*) FROM dead_letters") ?? 0)
            accounting.deadLetterBytes = Int(try db.scalar("SELECT coalesce(sum(size), 0) FROM dead_letters") ?? 0)
            let maxMessageID = try db.scalar("SELECT max(id) FROM broker_messages") ?? 0
            return (accounting, maxMessageID + 1)
        } catch {
            throw error.storeError
        }
    }

    /// Renames the database and its `-wal`/`-shm` files to `<path>.corrupt-<unix time>`.
    private static func moveAside(_ path: String) throws(StoreError) -> String {
        let stamp = "\(path).corrupt-\(time(nil))"
        var target = stamp
        var attempt = 1
        while access(target, F_OK) == 0 {
            target = "\(stamp).\(attempt)"
            attempt += 1
        }
        guard rename(path, target) == 0 else {
            let reason = String(cString: strerror(errno))
            throw StoreError(.io, "cannot move corrupt database \(path) to \(target): \(reason)")
        }
        for suffix in ["-wal", "-shm"] where access(path + suffix, F_OK) == 0 {
            if rename(path + suffix, target + suffix) != 0 {
                // A stale -wal must not be replayed into the fresh database.
                unlink(path + suffix)
            }
        }
        return target
    }
}
