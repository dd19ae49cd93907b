import WharfCore

/// How fast the uplink may send while the cloud refuses records as transient: a window that halves
/// at every refusal and grows back by one for every window's worth of accepted records
/// (additive increase, multiplicative decrease), and a pause drawn from the shared backoff policy
/// before anything is sent again. Pure: the caller passes the time (nanoseconds of a `WharfClock`).
///
/// Refusals that arrive during a pause answer publishes sent before it: they neither shrink the
/// window again nor lengthen the pause. The backoff attempt counter starts again at the first
/// accepted record after a pause, so a cloud that refuses again later starts from the base delay.
struct RefusalThrottle: Sendable {
    /// The window when nothing is refused (the connection's own capacity bounds it further).
    let maxWindow: Int
    /// The current limit on publishes awaiting PUBACK, 1...maxWindow.
    private(set) var window: Int
    /// Until when nothing may be sent (nanoseconds); nil when not paused.
    private(set) var pausedUntil: UInt64?
    /// Nanoseconds spent paused in total (every pause counted once).
    private(set) var throttledNanoseconds: UInt64 = 0
    /// Pauses begun in total.
    private(set) var pauses = 0

    private var backoff: Backoff
    private var random: SplitMix64
    /// Records accepted since the window last grew.
    private var acceptedSinceGrowth = 0

    /// Creates an open throttle for a window of `maxWindow` (at least 1).
    init(maxWindow: Int, policy: BackoffPolicy, seed: UInt64) {
        self.maxWindow = max(1, maxWindow)
        self.window = self.maxWindow
        self.backoff = Backoff(policy: policy)
        self.random = SplitMix64(seed: seed)
    }

    /// Whether sending must wait at `now`.
    func isPaused(at now: UInt64) -> Bool {
        guard let pausedUntil else { return false }
        return now < pausedUntil
    }

    /// Whether the window is below its maximum or a pause is running at `now`.
    func isThrottling(at now: UInt64) -> Bool {
        window < maxWindow || isPaused(at: now)
    }

    /// The cloud refused a record as transient at `now`: shrink the window, pause, and return the pause's end.
    @discardableResult
    mutating func refused(at now: UInt64) -> UInt64 {
        if let pausedUntil, now < pausedUntil { return pausedUntil }
        window = max(1, window / 2)
        acceptedSinceGrowth = 0
        let delay = backoff.nextDelay(using: &random)
        let nanoseconds = Self.nanoseconds(delay)
        let end = now &+ nanoseconds
        pausedUntil = end
        throttledNanoseconds &+= nanoseconds
        pauses += 1
        return end
    }

    /// The cloud accepted `count` records at `now`: grow the window back, one per full window accepted.
    mutating func accepted(_ count: Int, at now: UInt64) {
        guard count > 0 else { return }
        if !isPaused(at: now) {
            if pausedUntil != nil {
                pausedUntil = nil
                backoff.reset()
            }
        }
        guard window < maxWindow else { return }
        acceptedSinceGrowth += count
        while acceptedSinceGrowth >= window && window < maxWindow {
            acceptedSinceGrowth -= window
            window += 1
        }
        if window == maxWindow { acceptedSinceGrowth = 0 }
    }

    private static func nanoseconds(_ duration: Duration) -> UInt64 {
        let value = duration.attoseconds / 1_000_000_000
        if value <= 0 { return 0 }
        return value >= Int128(UInt64.max) ? UInt64.max : UInt64(value)
    }
}
