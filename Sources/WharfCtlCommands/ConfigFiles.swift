import WharfSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The file operations of `wharfctl config`: whole files in, new files out with a given mode.
enum ConfigFiles {
    /// The bytes of `path`.
    static func read(_ path: String) throws(ConfigCommandError) -> [UInt8] {
        do {
            guard let bytes = try StateFile.read(path) else {
                throw ConfigCommandError("\(path): cannot read: No such file or directory")
            }
            return bytes
        } catch let error as ConfigCommandError {
            throw error
        } catch {
            throw ConfigCommandError("\(error)")
        }
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

    private static func reason() -> String {
        String(cString: strerror(errno))
    }
}
