extension PluginSupervisor {
    /// A duration in nanoseconds of a `WharfClock`, clamped to `0...UInt64.max`.
    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let nanoseconds = duration.attoseconds / 1_000_000_000
        if nanoseconds <= 0 { return 0 }
        return nanoseconds >= Int128(UInt64.max) ? UInt64.max : UInt64(nanoseconds)
    }

    /// `now + duration`, saturating instead of overflowing.
    static func deadline(_ now: UInt64, plus duration: Duration) -> UInt64 {
        deadline(now, plusNanoseconds: nanoseconds(duration))
    }

    /// `now + nanoseconds`, saturating instead of overflowing.
    static func deadline(_ now: UInt64, plusNanoseconds nanoseconds: UInt64) -> UInt64 {
        let (sum, overflow) = now.addingReportingOverflow(nanoseconds)
        return overflow ? UInt64.max : sum
    }

    /// A duration as an operator writes it in the configuration: "250ms", "1.5s", "30s", "10m", "1h".
    static func describe(_ duration: Duration) -> String {
        let milliseconds = nanoseconds(duration) / 1_000_000
        let hour: UInt64 = 3_600_000
        let minute: UInt64 = 60_000
        if milliseconds >= hour && milliseconds % hour == 0 { return "\(milliseconds / hour)h" }
        if milliseconds >= minute && milliseconds % minute == 0 { return "\(milliseconds / minute)m" }
        if milliseconds % 1_000 == 0 { return "\(milliseconds / 1_000)s" }
        if milliseconds < 1_000 { return "\(milliseconds)ms" }
        var fraction = String(milliseconds % 1_000)
        fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(milliseconds / 1_000).\(fraction)s"
    }
}
