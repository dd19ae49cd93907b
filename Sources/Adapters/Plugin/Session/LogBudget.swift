/// A token bucket for log lines: a burst of `capacity`, then `perSecond`. What it refuses is
/// counted so that the next line it allows can say how many were left out.
struct LogBudget: Sendable {
    let capacity: Double
    let perSecond: Double
    private var tokens: Double
    private var last: UInt64?
    /// Lines refused since the last allowed one.
    private(set) var suppressed = 0

    init(capacity: Int = 200, perSecond: Int = 50) {
        self.capacity = Double(capacity)
        self.perSecond = Double(perSecond)
        self.tokens = Double(capacity)
    }

    /// Whether a line may be logged at `now` (nanoseconds). When it may, `suppressedBefore` is
    /// the number refused since the previous allowed line (then reset).
    mutating func allow(now: UInt64) -> (allowed: Bool, suppressedBefore: Int) {
        if let last, now > last {
            tokens = min(capacity, tokens + Double(now - last) / 1e9 * perSecond)
        }
        last = now
        guard tokens >= 1 else {
            suppressed += 1
            return (false, 0)
        }
        tokens -= 1
        defer { suppressed = 0 }
        return (true, suppressed)
    }
}
