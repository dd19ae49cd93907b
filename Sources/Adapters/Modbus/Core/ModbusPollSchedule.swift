/// When a poll group is next due. Pure: times are nanoseconds of a `WharfClock`.
///
/// Deadlines advance by whole intervals from the first one (`next = previous deadline + interval`),
/// so slow polls do not make the schedule drift; slots that passed while a poll ran are skipped
/// rather than run in a burst.
public struct ModbusPollSchedule: Sendable, Hashable {
    /// The interval in nanoseconds; 0 polls back to back.
    public let interval: UInt64
    /// When the next poll is due.
    public private(set) var deadline: UInt64

    /// A schedule whose first poll is due at `start`.
    public init(interval: Duration, start: UInt64) {
        let nanoseconds = interval.attoseconds / 1_000_000_000
        self.interval = nanoseconds <= 0 ? 0 : UInt64(clamping: nanoseconds)
        self.deadline = start
    }

    /// Whether a poll is due at `now`.
    public func isDue(at now: UInt64) -> Bool {
        now >= deadline
    }

    /// Records that the due poll finished at `now`; returns how many slots were skipped.
    @discardableResult
    public mutating func advance(now: UInt64) -> UInt64 {
        guard interval > 0 else {
            deadline = now
            return 0
        }
        guard now >= deadline else {
            deadline &+= interval
            return 0
        }
        // The first slot at or after `now`: a poll that ended exactly on a slot runs it at once.
        let elapsed = now - deadline
        let slots = Swift.max(1, elapsed / interval + (elapsed % interval == 0 ? 0 : 1))
        deadline &+= slots &* interval
        return slots - 1
    }

    /// Starts again with the first poll due at `now` (after a reconnect).
    public mutating func restart(at now: UInt64) {
        deadline = now
    }
}
