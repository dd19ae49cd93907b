import Synchronization

/// The last warning-or-worse log lines, kept in memory for `GET /api/v1/logs` and handed to the
/// event streams as they are written. Fed by ``WharfLogHandler``; thread-safe.
public final class LogRing: Sendable {
    /// How many lines it keeps (`admin.log_lines`); 0 keeps none.
    public let capacity: Int
    private let ring: Mutex<BoundedRing<LogLine>>
    private let listeners = Listeners<LogLine>()

    /// An empty ring of `capacity` lines.
    public init(capacity: Int) {
        self.capacity = max(0, capacity)
        ring = Mutex(BoundedRing(capacity: capacity))
    }

    /// Keeps `line` (pushing out the oldest when full) and hands it to every listener.
    public func append(_ line: LogLine) {
        guard capacity > 0 else { return }
        ring.withLock { $0.append(line) }
        listeners.yield(line)
    }

    /// The lines kept, oldest first, and how many older ones were pushed out since start.
    public func snapshot() -> (lines: [LogLine], dropped: Int) {
        ring.withLock { ($0.elements, $0.dropped) }
    }

    /// The lines written from now on, until the stream is dropped or ended. A listener that does
    /// not keep up loses the oldest of the `buffer` lines waiting for it, never slows a writer.
    public func lines(buffer: Int = 64) -> AsyncStream<LogLine> {
        listeners.stream(buffer: buffer)
    }

    /// How many listeners there are (a finished stream leaves none behind).
    var listenerCount: Int { listeners.count }
}
