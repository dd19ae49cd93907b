public import WharfConfig
import WharfCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads and validates a configuration file the same way for `wharfd` and `wharfctl`, and
/// applies the daemon's command-line overrides.
public enum ConfigFile {
    /// Reads `path` and validates it; the error lists every problem, one per line.
    public static func load(path: String) throws(StartupError) -> WharfConfiguration {
        let text = try readText(path: path)
        switch ConfigLoader.load(yaml: text, file: path) {
        case .success(let configuration): return configuration
        case .failure(let error): throw failure(error, path: path)
        }
    }

    /// Reads `path` and validates it, keeping the positioned tree (remote configuration overlays it).
    public static func loadTree(path: String) throws(StartupError) -> (
        tree: ConfigNode, configuration: WharfConfiguration
    ) {
        let text = try readText(path: path)
        // Validated first, so every problem is reported at once, as `load` does.
        let configuration: WharfConfiguration
        switch ConfigLoader.load(yaml: text, file: path) {
        case .success(let loaded): configuration = loaded
        case .failure(let error): throw failure(error, path: path)
        }
        switch ConfigLoader.parse(yaml: text, file: path) {
        case .success(let tree): return (tree, configuration)
        case .failure(let error): throw failure(error, path: path)
        }
    }

    /// Every issue, one per line, and their count.
    private static func failure(_ error: ConfigError, path: String) -> StartupError {
        let count = error.issues.count
        let lines = error.issues.map(\.description).joined(separator: "\n")
        return StartupError("\(lines)\n\(path): \(count) problem\(count == 1 ? "" : "s") found", exitCode: 1)
    }

    /// Reads a whole UTF-8 text file; errors name the file and the system's reason.
    public static func readText(path: String) throws(StartupError) -> String {
        guard let file = fopen(path, "rb") else {
            let reason = String(cString: strerror(errno))
            throw StartupError("\(path): cannot read the configuration file: \(reason)", exitCode: 2)
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count > 0 { bytes.append(contentsOf: chunk[0..<count]) }
            if count < chunk.count {
                if ferror(file) != 0 {
                    throw StartupError("\(path): cannot read the configuration file: read error", exitCode: 2)
                }
                break
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw StartupError("\(path): the file is not UTF-8 text", exitCode: 2)
        }
        return text
    }

    /// Parses `HOST:PORT` (or `[IPv6]:PORT`) as given to `--listen`.
    public static func parseListen(_ text: String) -> ListenerConfig? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
            return nil
        }
        return ListenerConfig(name: "command-line", bind: host, port: port)
    }
}

/// A problem that stops a command before it does its work, with the exit code it maps to.
public struct StartupError: Error, CustomStringConvertible {
    /// What went wrong, naming the file, line and key where there is one.
    public var description: String
    /// 1 for an invalid configuration, 2 for an unusable command line or file.
    public var exitCode: Int32

    /// Creates an error.
    public init(_ description: String, exitCode: Int32) {
        self.description = description
        self.exitCode = exitCode
    }
}

/// Writes a line to standard error.
public func printError(_ text: String) {
    var line = text
    if !line.hasSuffix("\n") { line += "\n" }
    var bytes = Array(line.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        guard written > 0 else { return }
        bytes = bytes.dropFirst(written)
    }
}
