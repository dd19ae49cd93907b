import Synchronization

/// How far one publisher's messages have reached its subscribers: the end-to-end window.
///
/// Subscribers report, per read batch, the next sequence number they expect from the publisher;
/// the publisher may have at most `window` messages beyond the lowest of those. Shared between
/// event loops, hence the lock; it is taken once per batch, not per message.
final class PublisherProgress: Sendable {
    private struct State {
        /// Per recipient slot: the highest sequence number seen plus one.
        var next: [Int]
        /// The lowest of `next`: messages every recipient has.
        var delivered = 0
        /// Set by the publisher when it is blocked on the window or awaits its last deliveries.
        var waiting = false
        /// Runs the publisher's pump on its event loop.
        var wake: (@Sendable () -> Void)?
    }

    private let state: Mutex<State>

    /// Creates the progress of a publisher heard by `recipients` subscribers.
    init(recipients: Int) {
        state = Mutex(State(next: Array(repeating: 0, count: recipients)))
    }

    /// Installs the closure that wakes the publisher.
    func attach(wake: @escaping @Sendable () -> Void) {
        state.withLock { $0.wake = wake }
    }

    /// Messages every recipient has received (gaps included).
    var delivered: Int { state.withLock { $0.delivered } }

    /// How many more the publisher may send now, given it has sent `sent` and other limits allow `limit`.
    ///
    /// Marks the publisher as waiting when the window will be full after sending them, or when all
    /// `total` messages will have been sent but not yet delivered, so that `advance` wakes it.
    func admit(sent: Int, limit: Int, window: Int, total: Int) -> (delivered: Int, count: Int) {
        state.withLock { state in
            let count = max(0, min(limit, window - (sent - state.delivered)))
            let after = sent + count
            state.waiting = after - state.delivered >= window || (after == total && state.delivered < total)
            return (state.delivered, count)
        }
    }

    /// Records that the subscriber in `slot` now expects sequence `next`; wakes the publisher if
    /// this opened its window.
    func advance(slot: Int, to next: Int) {
        let wake: (@Sendable () -> Void)? = state.withLock { state in
            let old = state.next[slot]
            guard next > old else { return nil }
            state.next[slot] = next
            guard old == state.delivered else { return nil }
            let delivered = state.next.min() ?? next
            guard delivered > state.delivered else { return nil }
            state.delivered = delivered
            guard state.waiting else { return nil }
            state.waiting = false
            return state.wake
        }
        wake?()
    }
}
