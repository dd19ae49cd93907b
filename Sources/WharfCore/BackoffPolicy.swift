/// How long a reconnecting part of Wharf (the uplink, a Modbus device, a plugin) waits between attempts:
/// exponential backoff with full jitter, `delay = random(0, min(cap, base · 2^attempt))`.
public struct BackoffPolicy: Sendable, Hashable {
    /// The ceiling of the first delay; it doubles with every failed attempt.
    public var base: Duration
    /// The largest ceiling a delay is drawn under.
    public var cap: Duration
    /// How long a connection must stay up before a later loss starts again from `base`.
    public var stableAfter: Duration

    /// Creates a policy; negative durations act as zero.
    public init(base: Duration = .seconds(1), cap: Duration = .seconds(120), stableAfter: Duration = .seconds(30)) {
        self.base = base
        self.cap = cap
        self.stableAfter = stableAfter
    }

    /// Base 1 s, cap 120 s, stable after 30 s.
    public static let standard = BackoffPolicy()

    /// The ceiling `min(cap, base · 2^attempt)` for a given attempt, never negative, never overflowing.
    public func ceiling(forAttempt attempt: Int) -> Duration {
        let cap = max(.zero, self.cap)
        var ceiling = min(max(.zero, base), cap)
        var doublings = max(0, attempt)
        // Doubling stops at the cap, so it runs at most ~128 times even for huge attempts: the
        // attosecond count of a positive Duration fits in an Int128.
        while doublings > 0 && ceiling > .zero && ceiling < cap {
            ceiling = ceiling > cap / 2 ? cap : ceiling * 2
            doublings -= 1
        }
        return ceiling
    }

    /// `stableAfter` in nanoseconds of a `WharfClock`, clamped to `0...UInt64.max`.
    var stableAfterNanoseconds: UInt64 {
        let nanoseconds = stableAfter.attoseconds / 1_000_000_000
        if nanoseconds <= 0 { return 0 }
        return nanoseconds >= Int128(UInt64.max) ? UInt64.max : UInt64(nanoseconds)
    }
}
