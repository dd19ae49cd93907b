import WharfCore

/// The reconnect delays of the uplink: the shared `Backoff` (full jitter, attempts reset after a
/// stable period) drawn from a seeded `SplitMix64`, so a given seed gives a reproducible schedule.
struct ReconnectSchedule: Sendable {
    private(set) var backoff: Backoff
    private var random: SplitMix64

    /// Creates a schedule for `policy` with a seed (tests pass a fixed one; the service a random one).
    init(policy: BackoffPolicy, seed: UInt64) {
        backoff = Backoff(policy: policy)
        random = SplitMix64(seed: seed)
    }

    /// The attempt about to be delayed for (0 for the first retry after a stable link).
    var attempt: Int { backoff.attempt }

    /// The ceiling of the next delay.
    var ceiling: Duration { backoff.currentCeiling }

    /// Draws the delay before the next attempt, uniformly from `0...ceiling`.
    mutating func nextDelay() -> Duration {
        backoff.nextDelay(using: &random)
    }

    /// The link came up at `now` (nanoseconds of a `WharfClock`).
    mutating func connected(at now: UInt64) {
        backoff.connected(at: now)
    }

    /// The link (or an attempt) ended at `now`.
    mutating func disconnected(at now: UInt64) {
        backoff.connectionLost(at: now)
    }
}
