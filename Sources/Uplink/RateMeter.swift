/// A rate over roughly the last second, from a growing total sampled at known times (nanoseconds).
struct RateMeter: Sendable, Hashable {
    private var windowStart: UInt64?
    private var countAtStart = 0
    private var latestCount = 0
    private var lastRate = 0.0

    /// The period one measurement spans.
    static let period: UInt64 = 1_000_000_000

    /// Records the running total at `now`.
    mutating func record(total: Int, at now: UInt64) {
        latestCount = total
        guard let start = windowStart else {
            windowStart = now
            countAtStart = total
            return
        }
        if now >= start &+ Self.period {
            lastRate = Double(total - countAtStart) * 1e9 / Double(now - start)
            windowStart = now
            countAtStart = total
        }
    }

    /// The rate at `now`: that of the last full period, decaying once nothing has been recorded for two.
    func rate(at now: UInt64) -> Double {
        guard let start = windowStart, now > start else { return lastRate }
        if now - start >= 2 * Self.period {
            return Double(latestCount - countAtStart) * 1e9 / Double(now - start)
        }
        return lastRate
    }
}
