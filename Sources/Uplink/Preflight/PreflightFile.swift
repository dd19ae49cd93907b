#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a file named in the configuration cannot be used, as a sentence naming it.
struct PreflightFileProblem: Error, Sendable, Equatable {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Reading a file named in the configuration, with the reason in plain words when it fails.
enum PreflightFile {
    /// What reading a path gave.
    enum Outcome {
        case contents([UInt8])
        case directory
        case failed(PreflightFileProblem)
    }

    /// Reads the whole file at `path`. Opened without blocking so that a FIFO or a device named by
    /// mistake is refused instead of waited on.
    static func load(_ path: String) -> Outcome {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return .failed(openProblem(path, errno)) }
        defer { close(descriptor) }
        var information = stat()
        guard fstat(descriptor, &information) == 0 else {
            return .failed(PreflightFileProblem("'\(path)' cannot be read: \(reason(errno))"))
        }
        switch information.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: break
        default: return .failed(PreflightFileProblem("'\(path)' is not a regular file"))
        }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                return .failed(PreflightFileProblem("'\(path)' cannot be read: \(reason(errno))"))
            }
            contents.append(contentsOf: chunk[0..<count])
        }
        if contents.isEmpty { return .failed(PreflightFileProblem("'\(path)' is empty")) }
        return .contents(contents)
    }

    private static func openProblem(_ path: String, _ code: Int32) -> PreflightFileProblem {
        switch code {
        case ENOENT: PreflightFileProblem("'\(path)' does not exist")
        case EACCES: PreflightFileProblem("'\(path)' cannot be read: permission denied")
        default: PreflightFileProblem("'\(path)' cannot be opened: \(reason(code))")
        }
    }

    private static func reason(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
