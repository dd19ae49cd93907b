import Synchronization

/// The last warning-or-worse log lines, kept in memory for `GET /api/v1/logs` and handed to the
/// event streams as they are written. Fed by ``WharfLogHandler``; thread-safe.
public final class LogRing: Sendable {
    /// How many lines it keeps (`admin.log_lines`); 0 keeps none.
    public let capacity: Int
    private let state: Mutex<State>

    struct State {
        var ring: BoundedRing<LogLine>
        var listeners: [UInt64: AsyncStream<LogLine>.Continuation] = [:]
        var nextListener: UInt64 = 0
    }

    /// An empty ring of `capacity` lines.
    public init(capacity: Int) {
        self.capacity = max(0, capacity)
        state = Mutex(State(ring: BoundedRing(capacity: capacity)))
    }

    /// Keeps `line` (pushing out the oldest when full) and hands it to every listener.
    public func append(_ line: LogLine) {
        guard capacity > 0 else { return }
        let listeners = state.withLock { state in
            state.ring.append(line)
            return Array(state.listeners.values)
        }
        // Outside the lock: a listener's buffer is bounded, so this never waits.
        for listener in listeners { listener.yield(line) }
    }

    /// The lines kept, oldest first, and how many older ones were pushed out since start.
    public func snapshot() -> (lines: [LogLine], dropped: Int) {
        state.withLock { ($0.ring.elements, $0.ring.dropped) }
    }

    /// The lines written from now on, until the stream is dropped or ended. A listener that does
    /// not keep up loses the oldest of the `buffer` lines waiting for it, never slows a writer.
    public func lines(buffer: Int = 64) -> AsyncStream<LogLine> {
        let (stream, continuation) = AsyncStream.makeStream(of: LogLine.self, bufferingPolicy: .bufferingNewest(buffer))
        let id = state.withLock { state in
            let id = state.nextListener
            state.nextListener += 1
            state.listeners[id] = continuation
            return id
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.listeners.removeValue(forKey: id) }
        }
        return stream
    }

    /// How many listeners there are (for tests: a finished stream leaves none behind).
    var listenerCount: Int { state.withLock { $0.listeners.count } }
}
