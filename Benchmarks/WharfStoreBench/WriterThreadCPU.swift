#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// CPU seconds of the store's writer thread, from `/proc/self/task/*/stat` (Linux only).
///
/// The writer is the one thread of the `NIOThreadPool` the store opens, which names its threads
/// `TP-#<n>`; the benchmark runs one store at a time, so at most one such thread is alive.
enum WriterThreadCPU {
    /// The writer's user plus system CPU seconds so far; `nil` where `/proc` cannot tell.
    static func seconds() -> Double? {
        guard let directory = opendir("/proc/self/task") else { return nil }
        defer { closedir(directory) }
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.first?.isNumber == true,
                let stat = read("/proc/self/task/\(name)/stat"),
                let close = stat.lastIndex(of: ")"),
                let open = stat.firstIndex(of: "("),
                stat[stat.index(after: open)..<close].hasPrefix("TP-#")
            else { continue }
            // Fields after the command name: state is the 3rd field of the line, utime the 14th.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            return (user + system) / ticksPerSecond
        }
        return nil
    }

    private static func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        return String(decoding: buffer.prefix(count), as: UTF8.self)
    }
}
