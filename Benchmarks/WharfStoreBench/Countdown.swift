import BenchSupport
import Store
import Synchronization

/// Counts append completions down to zero and wakes the one waiter then.
///
/// Completions run on the store's writer thread, so the time of the last one is taken there,
/// before any hop back to the waiting task.
final class Countdown: Sendable {
    private struct State {
        var remaining: Int
        var failures = 0
        var firstError: String?
        var finishedAt: Double?
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state: Mutex<State>

    /// Expects `count` completions.
    init(_ count: Int) {
        state = Mutex(State(remaining: count, finishedAt: count == 0 ? ProcessClock.monotonicSeconds() : nil))
    }

    /// Records one completion.
    func complete(_ result: Result<Int64, StoreError>) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.remaining -= 1
            if case .failure(let error) = result {
                state.failures += 1
                if state.firstError == nil { state.firstError = error.description }
            }
            guard state.remaining == 0 else { return nil }
            state.finishedAt = ProcessClock.monotonicSeconds()
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Returns once every completion arrived: the monotonic time of the last one, the failures
    /// and the first error.
    func wait() async -> (finishedAt: Double, failures: Int, firstError: String?) {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.remaining <= 0 { return true }
                state.waiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
        return state.withLock { state in
            (state.finishedAt ?? ProcessClock.monotonicSeconds(), state.failures, state.firstError)
        }
    }
}
