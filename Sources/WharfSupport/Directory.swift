#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Directory helpers on plain POSIX calls (no Foundation in the daemon).
public enum Directory {
    /// Creates `path` and any missing parents (mode 0750); returns the system's reason on failure.
    public static func create(_ path: String) -> String? {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o750) != 0 && errno != EEXIST {
                return "\(prefix): \(String(cString: strerror(errno)))"
            }
            prefix += "/"
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            return "\(path) exists and is not a directory"
        }
        return nil
    }
}
