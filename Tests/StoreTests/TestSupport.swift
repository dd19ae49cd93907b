import Foundation
import Logging
import NIOCore
import Synchronization
import WharfCore

@testable import Store

/// A fresh directory under /tmp for one test's database files.
struct TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/wharf-store-test-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else {
            throw StoreError(.io, "mkdtemp failed")
        }
        path = String(cString: created)
    }

    /// A path inside the directory.
    func file(_ name: String) -> String { "\(path)/\(name)" }

    /// The names of the files in the directory.
    func contents() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path))?.sorted() ?? []
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Wall-clock milliseconds that a test sets by hand.
final class ManualWallClock: Sendable {
    private let value: Mutex<Int64>

    init(_ start: Int64 = 1_000_000) {
        value = Mutex(start)
    }

    var now: Int64 { value.withLock { $0 } }

    func advance(by milliseconds: Int64) {
        value.withLock { $0 += milliseconds }
    }

    var reader: @Sendable () -> Int64 { { self.now } }
}

/// Keeps every log message so tests can look at what an operator would see.
final class LogCapture: Sendable {
    private let lines = Mutex<[(level: Logger.Level, message: String)]>([])

    var logger: Logger {
        var logger = Logger(label: "wharf.store.test") { _ in Handler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    var messages: [(level: Logger.Level, message: String)] { lines.withLock { $0 } }

    fileprivate func append(_ level: Logger.Level, _ message: String) {
        lines.withLock { $0.append((level, message)) }
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            capture.append(event.level, "\(event.message)")
        }
    }
}

/// Runs SQL on its own connection, independent of the store's writer: what another process sees.
func rawRows(_ path: String, _ sql: String) throws -> [[String?]] {
    let connection = try SQLiteConnection(path: path)
    defer { connection.close() }
    try connection.execute("PRAGMA busy_timeout = 5000")
    return try connection.rows(sql)
}

/// Runs statements on an independent connection.
func rawExecute(_ path: String, _ sql: String) throws {
    let connection = try SQLiteConnection(path: path)
    defer { connection.close() }
    try connection.execute("PRAGMA busy_timeout = 5000")
    try connection.execute(sql)
}

/// A single integer from an independent connection.
func rawScalar(_ path: String, _ sql: String) throws -> Int64? {
    try rawRows(path, sql).first?.first?.flatMap { Int64($0) }
}

func buffer(_ string: String) -> ByteBuffer {
    ByteBuffer(string: string)
}

func buffer(repeating byte: UInt8, count: Int) -> ByteBuffer {
    ByteBuffer(repeating: byte, count: count)
}

/// A topic of fixed length for each index, so that records of one payload size have one size.
func topic(_ index: Int) -> String {
    let digits = String(index)
    return "site/m" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}

/// A queue record with a recognisable payload.
func makeRecord(
    _ index: Int,
    payloadSize: Int? = nil,
    enqueuedAt: Int64 = 1_000_000,
    expiresAt: Int64? = nil,
    properties: MessageProperties = MessageProperties()
) -> NewForwardRecord {
    let payload =
        payloadSize.map { buffer(repeating: UInt8(truncatingIfNeeded: index), count: $0) } ?? buffer("payload-\(index)")
    return NewForwardRecord(
        rule: "rule-a",
        topic: topic(index),
        payload: payload,
        qos: .atLeastOnce,
        retain: index % 2 == 0,
        properties: properties,
        enqueuedAt: enqueuedAt,
        expiresAt: expiresAt
    )
}

/// Opens a database in `directory` with test-friendly defaults.
func openStore(
    _ directory: TemporaryDirectory,
    name: String = "wharf.db",
    synchronous: SynchronousMode = .full,
    maxPageCount: Int? = nil,
    logger: Logger = Logger(label: "wharf.store.test")
) async throws -> StoreDatabase {
    try await StoreDatabase.open(
        StoreOptions(path: directory.file(name), synchronous: synchronous, maxPageCount: maxPageCount),
        logger: logger
    )
}
