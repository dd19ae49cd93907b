#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The file operations of `wharfctl config`: whole files in, new files out with a given mode.
enum ConfigFiles {
    /// The bytes of `path`.
    static func read(_ path: String) throws(ConfigCommandError) -> [UInt8] {
        guard let file = fopen(path, "rb") else { throw ConfigCommandError("\(path): cannot read: \(reason())") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            bytes.append(contentsOf: chunk[0..<count])
            if count < chunk.count { break }
        }
        if ferror(file) != 0 { throw ConfigCommandError("\(path): cannot read: read error") }
        return bytes
    }

    /// The UTF-8 text of `path`.
    static func readText(_ path: String) throws(ConfigCommandError) -> String {
        guard let text = String(validating: try read(path), as: UTF8.self) else {
            throw ConfigCommandError("\(path): not UTF-8 text")
        }
        return text
    }

    /// Creates `path` (which must not exist) with `mode`, writes `text` and syncs it.
    static func create(_ path: String, text: String, mode: mode_t) throws(ConfigCommandError) {
        // O_EXCL: never overwrite a key; the mode is set at creation so the key is never readable by others.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw ConfigCommandError("\(path): cannot create: \(reason())") }
        var finished = false
        defer {
            if !finished { unlink(path) }
        }
        // The umask may have removed bits; set exactly what was asked.
        guard fchmod(descriptor, mode) == 0 else {
            close(descriptor)
            throw ConfigCommandError("\(path): cannot set the mode: \(reason())")
        }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if result < 0 {
                if errno == EINTR { continue }
                close(descriptor)
                throw ConfigCommandError("\(path): cannot write: \(reason())")
            }
            written += result
        }
        guard fsync(descriptor) == 0, close(descriptor) == 0 else {
            throw ConfigCommandError("\(path): cannot write: \(reason())")
        }
        finished = true
    }

    /// The names in a directory, sorted, without `.` and `..`.
    static func list(_ directory: String) throws(ConfigCommandError) -> [String] {
        guard let handle = opendir(directory) else {
            throw ConfigCommandError("\(directory): cannot list: \(reason())")
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

    private static func reason() -> String {
        String(cString: strerror(errno))
    }
}
