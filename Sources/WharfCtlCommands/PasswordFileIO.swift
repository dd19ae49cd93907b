#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a password file and replaces it atomically: a temporary file in the same directory,
/// written, synced, given the old file's mode and owner, then renamed over it.
enum PasswordFileIO {
    /// Mode and owner to keep when replacing a file.
    struct Attributes {
        var mode: mode_t
        var owner: uid_t
        var group: gid_t
    }

    /// Mode for a new file: the owner writes, the broker's group reads, others nothing.
    static let newFileMode: mode_t = 0o640

    /// The attributes of `path`, or `nil` when it does not exist.
    static func attributes(_ path: String) -> Attributes? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Attributes(mode: info.st_mode & 0o7777, owner: info.st_uid, group: info.st_gid)
    }

    /// The text of `path` and its attributes.
    static func read(_ path: String) throws(PasswdError) -> (String, Attributes) {
        guard let file = fopen(path, "rb") else {
            let hint = errno == ENOENT ? " (use -c to create it)" : ""
            throw PasswdError("\(path): cannot read the password file: \(reason())\(hint)", exitCode: 1)
        }
        defer { fclose(file) }
        var info = stat()
        fstat(fileno(file), &info)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            bytes.append(contentsOf: chunk[0..<count])
            if count < chunk.count { break }
        }
        if ferror(file) != 0 {
            throw PasswdError("\(path): cannot read the password file: \(reason())", exitCode: 1)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw PasswdError("\(path): the password file is not UTF-8 text", exitCode: 1)
        }
        return (text, Attributes(mode: info.st_mode & 0o7777, owner: info.st_uid, group: info.st_gid))
    }

    /// Replaces `path` with `text`, keeping `existing`'s mode and owner.
    static func replace(_ path: String, with text: String, keeping existing: Attributes?) throws(PasswdError) {
        let directory = path.lastIndex(of: "/").map { String(path[...$0]) } ?? "./"
        var template = Array("\(directory).\(basename(path)).XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.map { mkstemp($0) } ?? -1
        }
        guard descriptor >= 0 else {
            throw PasswdError("\(path): cannot create a temporary file in \(directory): \(reason())", exitCode: 1)
        }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var finished = false
        defer {
            if !finished { unlink(temporary) }
        }
        let mode = existing?.mode ?? newFileMode
        if fchmod(descriptor, mode) != 0 {
            close(descriptor)
            throw PasswdError("\(path): cannot set the mode of the new file: \(reason())", exitCode: 1)
        }
        if let existing, existing.owner != geteuid() || existing.group != getegid() {
            // Only root can give the file away; anyone else keeps their own ownership, which
            // is what the old file had in every case where a non-root user could replace it.
            _ = fchown(descriptor, existing.owner, existing.group)
        }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if result < 0 {
                if errno == EINTR { continue }
                close(descriptor)
                throw PasswdError("\(path): cannot write the new file: \(reason())", exitCode: 1)
            }
            written += result
        }
        if fsync(descriptor) != 0 || close(descriptor) != 0 {
            throw PasswdError("\(path): cannot write the new file: \(reason())", exitCode: 1)
        }
        guard rename(temporary, path) == 0 else {
            throw PasswdError("\(path): cannot replace the file: \(reason())", exitCode: 1)
        }
        finished = true
    }

    private static func basename(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    private static func reason() -> String {
        String(cString: strerror(errno))
    }
}
