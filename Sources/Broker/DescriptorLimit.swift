#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process's open-file limit (RLIMIT_NOFILE, `ulimit -n`, systemd's `LimitNOFILE`) and how
/// much of it client connections may use.
///
/// Running out of descriptors is not a clean error everywhere: NIO cannot create an event loop
/// without them (a fatal error), and the Swift runtime's thread-pool monitor on Linux (libdispatch)
/// traps when it cannot open `/proc/<tid>/stat`, which it does every second while tasks wait. So
/// wharfd refuses to start with too few, and its listeners never let connections take the
/// descriptors the rest of the process needs (see ``AcceptGuard``).
public enum DescriptorLimit {
    /// The fewest descriptors wharfd starts with: its event loops, store, listeners and signal
    /// handling take about 25 on a 2-core machine, and connections need room beyond that.
    public static let minimum = 64

    /// The soft and hard limits, or nil when they cannot be read.
    public static func current() -> (soft: Int, hard: Int)? {
        var limit = rlimit()
        guard getrlimit(openFiles, &limit) == 0 else { return nil }
        return (clamped(limit.rlim_cur), clamped(limit.rlim_max))
    }

    /// Raises the soft limit to the hard one, as servers do (systemd's default soft limit of 1024
    /// exists for `select(2)`, which wharfd does not use); returns the soft limit now in force.
    @discardableResult
    public static func raiseSoftLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(openFiles, &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(openFiles, &raised) == 0 { limit = raised }
        }
        return clamped(limit.rlim_cur)
    }

    /// Descriptors open now (Linux: entries of /proc/self/fd), or nil when unknown.
    static func openCount() -> Int? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { $0.first }
            if name != UInt8(ascii: ".") { count += 1 }
        }
        return max(0, count - 1)  // the directory's own descriptor
    }

    #if canImport(Glibc)
        private static let openFiles = Int32(RLIMIT_NOFILE.rawValue)
    #else
        private static let openFiles = RLIMIT_NOFILE
    #endif

    private static func clamped(_ value: rlim_t) -> Int {
        value >= rlim_t(Int.max) ? Int.max : Int(value)
    }
}

/// How many client connections fit in the open-file limit while leaving a reserve for the rest
/// of the process (store, uplink, adapters, admin API, the runtime's own reads). Free of I/O.
struct DescriptorBudget: Sendable, Equatable {
    /// Connections the listeners accept at most; beyond, new ones are closed at once.
    var connections: Int
    /// Descriptors kept free for everything but client connections.
    var reserve: Int

    /// The budget for soft limit `limit` when `inUse` descriptors are open before any client.
    init(limit: Int, inUse: Int) {
        let reserve = 32 + min(limit, 1 << 24) / 16
        self.reserve = reserve
        self.connections = max(0, limit - inUse - reserve)
    }
}
