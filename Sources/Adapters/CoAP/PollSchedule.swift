/// When each client-side device is next read: polled devices every interval, observed devices
/// re-registered after a failure; no I/O, times in nanoseconds of a `WharfClock`.
public struct PollSchedule: Sendable {
    private var deadlines: [UInt64?]
    private let intervals: [UInt64]

    /// A schedule for devices with these intervals; every device is due at `now`.
    public init(intervals: [Duration], now: UInt64) {
        self.intervals = intervals.map { PollSchedule.nanoseconds($0) }
        deadlines = Array(repeating: now, count: intervals.count)
    }

    /// The devices due at `now`; each is rescheduled one interval after `now`.
    public mutating func due(now: UInt64) -> [Int] {
        var result: [Int] = []
        for index in deadlines.indices {
            guard let deadline = deadlines[index], deadline <= now else { continue }
            result.append(index)
            deadlines[index] = now &+ intervals[index]
        }
        return result
    }

    /// Stops reading `device` until `retry(_:now:)` (an observation that is running).
    public mutating func pause(_ device: Int) {
        guard deadlines.indices.contains(device) else { return }
        deadlines[device] = nil
    }

    /// Makes `device` due one interval after `now` (an observation that failed).
    public mutating func retry(_ device: Int, now: UInt64) {
        guard deadlines.indices.contains(device) else { return }
        deadlines[device] = now &+ intervals[device]
    }

    /// Nanoseconds until the next deadline after `now`, `nil` when nothing is scheduled.
    public func nextDelay(now: UInt64) -> UInt64? {
        deadlines.compactMap { $0 }.map { $0 > now ? $0 - now : 0 }.min()
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        return UInt64(max(0, seconds)) &* 1_000_000_000 &+ UInt64(max(0, attoseconds / 1_000_000_000))
    }
}
