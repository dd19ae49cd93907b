import NIOCore
import Synchronization

/// How a run ended.
enum RunOutcome: Sendable, Equatable {
    /// Every publisher's messages reached every subscriber.
    case complete
    /// No delivery for the idle timeout: messages were lost.
    case stalled
    /// The overall time limit passed.
    case timedOut
    /// A connection failed or the broker misbehaved.
    case failed(String)
}

/// The run's shared end: counts finished publishers and records the first reason to stop.
final class RunTracker: Sendable {
    private struct State {
        var finished = 0
        var endedAt: UInt64?
        var outcome: RunOutcome?
    }

    private let publisherCount: Int
    private let state = Mutex(State())
    private let promise: EventLoopPromise<RunOutcome>
    /// Deliveries so far across all subscribers; the watchdog's sign of life.
    let deliveries = Atomic<Int>(0)

    /// Creates a tracker that completes `promise` when `publisherCount` publishers have finished.
    init(publisherCount: Int, promise: EventLoopPromise<RunOutcome>) {
        self.publisherCount = publisherCount
        self.promise = promise
    }

    /// Completes when the run ends, with why.
    var ended: EventLoopFuture<RunOutcome> { promise.futureResult }

    /// When the run ended, in monotonic nanoseconds.
    var endedAt: UInt64? { state.withLock { $0.endedAt } }

    /// Whether the run has ended (clients then ignore their connections closing).
    var hasEnded: Bool { state.withLock { $0.outcome != nil } }

    /// A publisher's messages have all been delivered (and acknowledged).
    func publisherFinished() {
        let last = state.withLock { state in
            state.finished += 1
            return state.finished == publisherCount
        }
        if last { end(.complete) }
    }

    /// Ends the run with `outcome` unless it has already ended.
    func end(_ outcome: RunOutcome) {
        let first = state.withLock { state in
            guard state.outcome == nil else { return false }
            state.outcome = outcome
            state.endedAt = monotonicNanoseconds()
            return true
        }
        if first { promise.succeed(outcome) }
    }
}
