/// Which of the configured cloud brokers the uplink tries next, and whether a backoff delay comes first.
///
/// Endpoints are tried in order. After a lost link or a failed attempt the next endpoint is tried at
/// once: a cluster node that dies should cost its clients no more than a reconnect to its neighbour.
/// The shared backoff applies per round: once every endpoint has been tried without a connection that
/// held (stayed up for the backoff's `stableAfter`, at least one second), the uplink waits a backoff
/// delay and starts the next round at the preferred (first) endpoint. A single endpoint therefore
/// behaves as before: a delay after every loss. A connection that was accepted but did not hold
/// counts as a tried endpoint, so a cluster that accepts and drops at once cannot make the uplink spin.
///
/// Connected to any endpoint but the first, the uplink goes back to the first after `failback`.
/// Times are nanoseconds of a `WharfClock`, given by the caller, so the selector is pure.
struct EndpointSelector: Sendable, Hashable {
    /// What to do before the next attempt.
    enum Next: Sendable, Hashable {
        /// Try `current` now.
        case now
        /// Wait a backoff delay, then try `current` (the preferred endpoint).
        case afterBackoff
    }

    /// How many endpoints there are (at least one).
    let count: Int
    /// `failback` in nanoseconds; nil never fails back.
    let failbackNanoseconds: UInt64?
    /// How long a connection must stay up to end the round.
    let heldNanoseconds: UInt64

    /// The endpoint to try next, or in use while connected (index into the configuration's list).
    private(set) var current = 0
    /// Connections accepted by another endpoint than the previous connection's, other than failbacks.
    private(set) var failovers = 0
    /// Endpoints tried in the current round.
    private var triedInRound = 0
    /// The endpoint of the last accepted connection.
    private var lastConnected: Int?
    /// When the current connection was accepted; nil while not connected.
    private var connectedAt: UInt64?
    /// Since when the failback period runs (the connection's start, or the last postponement).
    private var failbackFrom: UInt64?
    /// Whether the attempt under way is a failback, which is not counted as a failover.
    private var failingBack = false

    /// Creates a selector for `count` endpoints.
    init(count: Int, failback: Duration?, stableAfter: Duration) {
        self.count = max(1, count)
        self.failbackNanoseconds = failback.map(Self.nanoseconds)
        self.heldNanoseconds = max(Self.nanoseconds(stableAfter), 1_000_000_000)
    }

    /// The attempt on `current` was accepted at `now`.
    mutating func connected(at now: UInt64) {
        if let lastConnected, lastConnected != current, !failingBack { failovers += 1 }
        lastConnected = current
        connectedAt = now
        failbackFrom = now
        failingBack = false
    }

    /// When the uplink should go back to the preferred endpoint: only while connected to another one
    /// with failback on.
    var failbackDeadline: UInt64? {
        guard current != 0, let failbackFrom, let failbackNanoseconds else { return nil }
        let (deadline, overflow) = failbackFrom.addingReportingOverflow(failbackNanoseconds)
        return overflow ? nil : deadline
    }

    /// The connection or attempt on `current` ended at `now`: moves to the endpoint to try next and
    /// says whether a backoff delay comes first.
    mutating func ended(at now: UInt64) -> Next {
        let held = connectedAt.map { now >= $0 && now - $0 >= heldNanoseconds } ?? false
        connectedAt = nil
        failbackFrom = nil
        failingBack = false
        triedInRound = held ? 1 : triedInRound + 1
        if triedInRound >= count {
            triedInRound = 0
            current = 0
            return .afterBackoff
        }
        current = (current + 1) % count
        return .now
    }

    /// Failback is due: the connection is closed on purpose and the preferred endpoint is tried next,
    /// at once, starting a new round.
    mutating func failBack() {
        connectedAt = nil
        failbackFrom = nil
        current = 0
        triedInRound = 0
        failingBack = true
    }

    /// The failback deadline passed but the preferred endpoint does not answer: stay, and look again
    /// after another `failback` period.
    mutating func postponeFailback(at now: UInt64) {
        if failbackFrom != nil { failbackFrom = now }
    }

    private static func nanoseconds(_ duration: Duration) -> UInt64 {
        let nanoseconds = duration.attoseconds / 1_000_000_000
        if nanoseconds <= 0 { return 0 }
        return nanoseconds >= Int128(UInt64.max) ? UInt64.max : UInt64(nanoseconds)
    }
}
