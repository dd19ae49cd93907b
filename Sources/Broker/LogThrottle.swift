/// At most one log line per interval for a condition that may repeat thousands of times a
/// second; the line says how often the condition occurred since the last one. Free of I/O: time
/// (ns) is passed in.
struct LogThrottle: Sendable {
    /// The shortest time between two lines, in nanoseconds.
    let interval: UInt64
    private var lastLogged: UInt64?
    private var unlogged = 0

    init(interval: UInt64) {
        self.interval = interval
    }

    /// Notes one occurrence at `now`; returns how many occurrences the line to write now should
    /// report, or nil when a line was already written within the interval.
    mutating func occurred(now: UInt64) -> Int? {
        unlogged += 1
        if let lastLogged, now &- lastLogged < interval { return nil }
        lastLogged = now
        defer { unlogged = 0 }
        return unlogged
    }
}
