/// How many records the uplink may send now under `max_publish_rate`: a token bucket that fills at
/// `rate` tokens per second up to `burst`, one token per PUBLISH. Pure: the caller passes the time
/// (nanoseconds of a `WharfClock`).
///
/// Kept as the time the bucket will be full again (the generic cell rate algorithm), in whole
/// nanoseconds, so no rounding accumulates: over any stretch of t nanoseconds at most
/// `burst + t / interval` tokens are taken. The burst is small (a tenth of a second's worth, at
/// least 1), so a backlog drains at the rate rather than in bursts a per-second quota would refuse.
struct PublishRateLimiter: Sendable {
    /// Nanoseconds per token: 1 s / rate, rounded up (never faster than the rate).
    let interval: UInt64
    /// The most tokens the bucket holds.
    let burst: Int

    /// When the bucket is full again; at or before now it is full.
    private var fullAt: UInt64

    /// Creates a full bucket at `now` for `rate` publishes per second (above 0).
    init(rate: Double, now: UInt64) {
        let nanoseconds = (1e9 / max(rate, 1e-6)).rounded(.up)
        self.interval = nanoseconds >= 1e18 ? 1_000_000_000_000_000_000 : max(1, UInt64(nanoseconds))
        self.burst = max(1, Int(min(max(rate, 0) / 10, 1e6)))
        self.fullAt = now
    }

    /// Tokens available at `now`.
    func available(at now: UInt64) -> Int {
        let empty = Self.product(UInt64(burst), interval)
        let missing = fullAt > now ? fullAt - now : 0
        guard missing < empty else { return 0 }
        return Int((empty - missing) / interval)
    }

    /// Takes `count` tokens at `now` (more than are available leaves a debt paid by later refills).
    mutating func take(_ count: Int, at now: UInt64) {
        guard count > 0 else { return }
        let start = max(fullAt, now)
        let (end, overflow) = start.addingReportingOverflow(Self.product(UInt64(count), interval))
        fullAt = overflow ? UInt64.max : end
    }

    /// When the next token is available (`now` if one is already).
    func nextToken(at now: UInt64) -> UInt64 {
        let ahead = Self.product(UInt64(burst - 1), interval)
        let at = fullAt > ahead ? fullAt - ahead : 0
        return max(now, at)
    }

    private static func product(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (value, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? UInt64.max : value
    }
}
