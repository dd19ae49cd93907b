#if canImport(Glibc)
    import Glibc
    // `timespec`'s fields are declared there; Swift's member-import rules want it named.
    import SwiftOverlayShims
#elseif canImport(Darwin)
    import Darwin
#endif

/// Wall-clock time in milliseconds since 1970, for what must make sense after a reboot
/// (queue ages, session disconnect times). Monotonic intervals use ``WharfClock`` instead.
public protocol WallClock: Sendable {
    /// Milliseconds since the Unix epoch.
    func millisecondsSinceEpoch() -> Int64
}

/// The system's real-time clock.
public struct SystemWallClock: WallClock {
    /// Creates the clock.
    public init() {}

    /// Milliseconds since the Unix epoch from `CLOCK_REALTIME`.
    public func millisecondsSinceEpoch() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
