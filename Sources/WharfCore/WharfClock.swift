/// A monotonic time source in nanoseconds. Anything that waits or ages (keepalive,
/// session and message expiry, backoff) reads time through this so tests can drive it.
public protocol WharfClock: Sendable {
    /// Nanoseconds since an arbitrary fixed point; never decreases.
    func now() -> UInt64
}

/// The system's monotonic clock.
public struct SystemClock: WharfClock {
    /// Creates the clock.
    public init() {}

    /// Nanoseconds of `ContinuousClock` since the first reading in this process.
    public func now() -> UInt64 {
        let (seconds, attoseconds) = SystemClock.epoch.duration(to: .now).components
        return UInt64(max(0, seconds)) &* 1_000_000_000 &+ UInt64(max(0, attoseconds / 1_000_000_000))
    }

    private static let epoch = ContinuousClock.now
}
