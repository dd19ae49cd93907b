#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The monotonic clock in nanoseconds, shared by publishers (stamping) and subscribers (latency).
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}

/// CPU time (user plus system) in seconds.
enum CPUTime {
    /// Of the whole process.
    static func process() -> Double {
        var usage = rusage()
        getrusage(rusageSelf, &usage)
        return seconds(usage)
    }

    /// Of the calling thread (of the process where per-thread accounting is unavailable).
    static func currentThread() -> Double {
        var usage = rusage()
        #if os(Linux)
            getrusage(rusageThread, &usage)
        #else
            getrusage(rusageSelf, &usage)
        #endif
        return seconds(usage)
    }

    #if os(Linux)
        private static let rusageSelf = __rusage_who_t(RUSAGE_SELF.rawValue)
        /// Glibc's RUSAGE_THREAD is a macro that does not import.
        private static let rusageThread = __rusage_who_t(1)
    #else
        private static let rusageSelf = RUSAGE_SELF
    #endif

    private static func seconds(_ usage: rusage) -> Double {
        Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
    }
}
