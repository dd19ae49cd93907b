#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whole-file operations on plain POSIX calls for state that must survive a crash: a write is a
/// temporary file, `fsync`, `rename` over the old one and `fsync` of the directory, so a reader
/// finds the old content or the new one, never a mix.
public enum StateFile {
    /// A failure, naming the file and the system's reason.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        /// `PATH: cannot ACTION: REASON`.
        public let description: String

        init(_ path: String, _ action: String) {
            description = "\(path): cannot \(action): \(String(cString: strerror(errno)))"
        }

        /// A failure described in full.
        public init(description: String) { self.description = description }
    }

    /// The bytes of `path`, or `nil` when it does not exist.
    public static func read(_ path: String) throws(Failure) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw Failure(path, "read")
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(path, "read")
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    /// Replaces `path` with `bytes` crash-safely, with `mode`.
    public static func write(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o640) throws(Failure) {
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw Failure(temporary, "create") }
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if result < 0 {
                if errno == EINTR { continue }
                let failure = Failure(temporary, "write")
                close(descriptor)
                unlink(temporary)
                throw failure
            }
            written += result
        }
        guard fsync(descriptor) == 0 else {
            let failure = Failure(temporary, "sync")
            close(descriptor)
            unlink(temporary)
            throw failure
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let failure = Failure(path, "replace")
            unlink(temporary)
            throw failure
        }
        try syncDirectory(of: path)
    }

    /// Removes `path`; a missing file is not an error.
    public static func remove(_ path: String) throws(Failure) {
        if unlink(path) != 0 && errno != ENOENT { throw Failure(path, "remove") }
    }

    /// The names in `directory`, sorted, without `.` and `..`; `nil` when it does not exist.
    public static func list(_ directory: String) throws(Failure) -> [String]? {
        guard let handle = opendir(directory) else {
            if errno == ENOENT { return nil }
            throw Failure(directory, "list")
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Syncs the directory holding `path`, so a rename or removal in it is durable.
    public static func syncDirectory(of path: String) throws(Failure) {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let descriptor = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(directory, "open") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw Failure(directory, "sync") }
    }
}
