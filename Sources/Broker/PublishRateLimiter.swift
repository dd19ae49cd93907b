/// A client's publish rate limit: two token buckets, messages per second and payload bytes per
/// second, each holding at most one second's worth. Free of I/O; time is passed in (nanoseconds
/// of the broker clock), so tests drive it by hand.
///
/// A PUBLISH is always taken, even when it costs more than the bucket holds: the bucket goes into
/// debt and the client is paused until the debt is paid back. So one large message never blocks
/// forever, and the long-run rate stays at the limit.
struct PublishRateLimiter: Sendable {
    /// Messages per second, 0 for no limit.
    let messagesPerSecond: Int
    /// Payload bytes per second, 0 for no limit.
    let bytesPerSecond: Int
    /// Tokens in units of 1/1e9 message (resp. byte), so that refill needs no division per call.
    private var messageTokens: Int64
    private var byteTokens: Int64
    private var lastRefill: UInt64

    /// Creates a limiter with full buckets at `now`.
    init(messagesPerSecond: Int, bytesPerSecond: Int, now: UInt64) {
        self.messagesPerSecond = max(0, messagesPerSecond)
        self.bytesPerSecond = max(0, bytesPerSecond)
        messageTokens = Self.scaled(self.messagesPerSecond)
        byteTokens = Self.scaled(self.bytesPerSecond)
        lastRefill = now
    }

    /// Whether any limit is set.
    var isLimited: Bool { messagesPerSecond > 0 || bytesPerSecond > 0 }

    /// Takes one PUBLISH of `payloadBytes` at `now`; returns how long (ns) the client must wait
    /// before it may send the next one, or nil when it may go on at once.
    mutating func take(payloadBytes: Int, now: UInt64) -> UInt64? {
        guard isLimited else { return nil }
        refill(now: now)
        if messagesPerSecond > 0 { messageTokens -= 1_000_000_000 }
        if bytesPerSecond > 0 { byteTokens -= Int64(clamping: payloadBytes) &* 1_000_000_000 }
        return wait()
    }

    /// How long (ns) from `now` until both buckets are out of debt, or nil when they are.
    mutating func waitTime(now: UInt64) -> UInt64? {
        guard isLimited else { return nil }
        refill(now: now)
        return wait()
    }

    private func wait() -> UInt64? {
        // Each bucket refills `rate` whole tokens per second, i.e. `rate` scaled units per ns.
        var longest: UInt64 = 0
        if messagesPerSecond > 0, messageTokens < 0 {
            longest = max(longest, Self.nanoseconds(toRepay: -messageTokens, rate: messagesPerSecond))
        }
        if bytesPerSecond > 0, byteTokens < 0 {
            longest = max(longest, Self.nanoseconds(toRepay: -byteTokens, rate: bytesPerSecond))
        }
        return longest > 0 ? longest : nil
    }

    private mutating func refill(now: UInt64) {
        guard now > lastRefill else { return }
        let elapsed = Int64(clamping: now - lastRefill)
        lastRefill = now
        if messagesPerSecond > 0 {
            messageTokens = Self.refilled(messageTokens, elapsed: elapsed, rate: messagesPerSecond)
        }
        if bytesPerSecond > 0 {
            byteTokens = Self.refilled(byteTokens, elapsed: elapsed, rate: bytesPerSecond)
        }
    }

    private static func refilled(_ tokens: Int64, elapsed: Int64, rate: Int) -> Int64 {
        let capacity = scaled(rate)
        let (added, overflow) = elapsed.multipliedReportingOverflow(by: Int64(rate))
        if overflow { return capacity }
        return min(capacity, tokens.addingReportingOverflow(added).overflow ? capacity : tokens + added)
    }

    private static func scaled(_ rate: Int) -> Int64 {
        Int64(clamping: rate).multipliedReportingOverflow(by: 1_000_000_000).overflow
            ? Int64.max / 2 : Int64(rate) * 1_000_000_000
    }

    private static func nanoseconds(toRepay debt: Int64, rate: Int) -> UInt64 {
        // Round up, so that the bucket is out of debt when the wait ends.
        UInt64((debt + Int64(rate) - 1) / Int64(rate))
    }
}
