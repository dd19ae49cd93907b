/// How a remote configuration is confirmed or rolled back: the countdown, the hold, the restart-loop
/// limit and how often the countdown is saved.
public struct ConfirmationPolicy: Sendable, Hashable {
    /// The time a provisional configuration has to be confirmed (`remote_config.confirm_within`),
    /// counted while the daemon runs; the hold below must complete within it.
    public var confirmWithin: Duration
    /// How long the uplink must stay connected and the health checks passing, without a break, before
    /// the configuration is confirmed (`remote_config.confirm_after`).
    public var confirmAfter: Duration
    /// Starts of the daemon with a provisional configuration tolerated within `startWindow`; the next
    /// one rolls back (0...65535).
    public var maxProvisionalStarts: Int
    /// The window, in wall-clock time, starts with a provisional configuration are counted in.
    public var startWindow: Duration
    /// How often, while provisional, the time left of the countdown is saved to disk (at least 1 s).
    public var checkpointInterval: Duration

    /// Creates a policy; the defaults are those of `remote_config`.
    public init(
        confirmWithin: Duration = .seconds(300),
        confirmAfter: Duration = .seconds(60),
        maxProvisionalStarts: Int = 3,
        startWindow: Duration = .seconds(900),
        checkpointInterval: Duration = .seconds(10)
    ) {
        self.confirmWithin = confirmWithin
        self.confirmAfter = confirmAfter
        self.maxProvisionalStarts = maxProvisionalStarts
        self.startWindow = startWindow
        self.checkpointInterval = checkpointInterval
    }

    /// The defaults: 5 min to confirm after a 60 s hold, 3 provisional starts within 15 min, a
    /// checkpoint every 10 s.
    public static let standard = ConfirmationPolicy()

    /// `confirmWithin` in nanoseconds.
    var confirmWithinNanoseconds: UInt64 { Self.nanoseconds(confirmWithin) }
    /// `confirmAfter` in nanoseconds.
    var confirmAfterNanoseconds: UInt64 { Self.nanoseconds(confirmAfter) }
    /// `checkpointInterval` in nanoseconds, at least one second so that checkpoints cannot spin.
    var checkpointNanoseconds: UInt64 { max(Self.nanoseconds(checkpointInterval), 1_000_000_000) }
    /// `startWindow` in whole seconds.
    var startWindowSeconds: Int64 { Int64(min(Self.nanoseconds(startWindow) / 1_000_000_000, UInt64(Int64.max))) }
    /// `maxProvisionalStarts` clamped to 0...65535.
    var startLimit: Int { min(max(0, maxProvisionalStarts), 65_535) }

    /// A duration in nanoseconds, clamped to `0...UInt64.max`.
    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let nanoseconds = duration.attoseconds / 1_000_000_000
        if nanoseconds <= 0 { return 0 }
        return nanoseconds >= Int128(UInt64.max) ? UInt64.max : UInt64(nanoseconds)
    }

    /// `now + nanoseconds`, saturating instead of overflowing.
    static func deadline(_ now: UInt64, plus nanoseconds: UInt64) -> UInt64 {
        let (sum, overflow) = now.addingReportingOverflow(nanoseconds)
        return overflow ? UInt64.max : sum
    }

    /// A duration as an operator writes it: "250ms", "30s", "10m", "1h".
    static func describe(_ duration: Duration) -> String {
        let milliseconds = nanoseconds(duration) / 1_000_000
        let hour: UInt64 = 3_600_000
        let minute: UInt64 = 60_000
        if milliseconds >= hour && milliseconds % hour == 0 { return "\(milliseconds / hour)h" }
        if milliseconds >= minute && milliseconds % minute == 0 { return "\(milliseconds / minute)m" }
        if milliseconds % 1_000 == 0 { return "\(milliseconds / 1_000)s" }
        return "\(milliseconds)ms"
    }
}
