/// The reconnect state of one link: which attempt comes next and since when the link has been up.
///
/// Draw a delay with `nextDelay(using:)` before each attempt; report `connected(at:)` when the link comes
/// up and `connectionLost(at:)` when it drops. The attempt counter starts again from zero only when the
/// link had stayed up for the policy's `stableAfter`, so a link that flaps keeps backing off.
public struct Backoff: Sendable, Hashable {
    /// The policy the delays follow.
    public var policy: BackoffPolicy
    /// The number of delays drawn since the last reset.
    public private(set) var attempt: Int
    /// When the link came up, in nanoseconds of a `WharfClock`; `nil` while it is down.
    public private(set) var connectedSince: UInt64?

    /// Creates the state for a link that has not connected yet.
    public init(policy: BackoffPolicy = .standard) {
        self.policy = policy
        self.attempt = 0
        self.connectedSince = nil
    }

    /// The ceiling used for the next draw: min(cap, base * 2^attempt).
    public var currentCeiling: Duration { policy.ceiling(forAttempt: attempt) }

    /// Draws a delay uniformly from `0...currentCeiling` and counts the attempt.
    public mutating func nextDelay<R: RandomNumberGenerator>(using rng: inout R) -> Duration {
        let ceiling = currentCeiling.attoseconds
        let delay = ceiling > 0 ? Int128.random(in: 0...ceiling, using: &rng) : 0
        if attempt < Int.max { attempt += 1 }
        return Duration(attoseconds: delay)
    }

    /// Draws a delay with the system's random number generator.
    public mutating func nextDelay() -> Duration {
        var rng = SystemRandomNumberGenerator()
        return nextDelay(using: &rng)
    }

    /// Records that the link came up at `now` (nanoseconds of a `WharfClock`).
    public mutating func connected(at now: UInt64) {
        connectedSince = now
    }

    /// Records that the link dropped at `now`; resets the attempts if it had been up for `stableAfter`.
    public mutating func connectionLost(at now: UInt64) {
        defer { connectedSince = nil }
        guard let since = connectedSince, now >= since else { return }
        if now - since >= policy.stableAfterNanoseconds {
            attempt = 0
        }
    }

    /// Starts again from the first attempt, as after a stable connection.
    public mutating func reset() {
        attempt = 0
        connectedSince = nil
    }
}
