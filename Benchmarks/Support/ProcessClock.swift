#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Wall and CPU time of the whole process, read together at the start and end of a measurement
/// (shared by the benchmark executables).
public struct ProcessClock: Sendable {
    /// Seconds from an arbitrary monotonic origin.
    public var wall: Double
    /// User plus system CPU seconds of every thread of the process.
    public var cpu: Double

    /// The clocks now.
    public static func now() -> ProcessClock {
        ProcessClock(wall: monotonicSeconds(), cpu: processCPUSeconds())
    }

    /// The monotonic clock in seconds.
    public static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    private static func processCPUSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
            getrusage(RUSAGE_SELF, &usage)
        #endif
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}
