#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Everything needed to start one plugin process through `wharf-launch`.
struct PluginLaunch: Sendable, Equatable {
    /// The launcher executable.
    var launcher: String
    /// The plugin executable, absolute.
    var executable: String
    /// Arguments after the executable.
    var arguments: [String]
    /// The whole environment, `NAME=value`.
    var environment: [String]
    /// The directory the plugin runs in.
    var workingDirectory: String
    /// RLIMIT_AS in bytes, RLIMIT_NOFILE, RLIMIT_CPU in seconds; 0 for none.
    var memoryLimit = 0
    var openFilesLimit = 0
    var cpuSecondsLimit = 0

    /// The launcher's argument vector (without argv[0]).
    func launcherArguments(parent: Int32) -> [String] {
        var arguments = ["--parent", String(parent), "--cwd", workingDirectory]
        if memoryLimit > 0 { arguments += ["--memory", String(memoryLimit)] }
        if openFilesLimit > 0 { arguments += ["--open-files", String(openFilesLimit)] }
        if cpuSecondsLimit > 0 { arguments += ["--cpu", String(cpuSecondsLimit)] }
        return arguments + ["--", executable] + self.arguments
    }
}

/// Where plugins and the launcher are found.
enum PluginPaths {
    /// The directory relative plugin commands are looked up in: `$WHARF_PLUGIN_DIR` when set,
    /// else the one the package installs.
    static func pluginDirectory(environment: [String: String]) -> String {
        if let directory = environment["WHARF_PLUGIN_DIR"], !directory.isEmpty { return directory }
        return "/usr/lib/wharf/plugins"
    }

    /// The absolute path of `command`: itself when absolute, else inside the plugin directory.
    static func resolve(command: String, environment: [String: String]) -> String {
        if command.hasPrefix("/") { return command }
        let directory = pluginDirectory(environment: environment)
        return directory.hasSuffix("/") ? directory + command : directory + "/" + command
    }

    /// Why `path` cannot be started as a plugin, or `nil` when it can.
    static func problem(executable path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return "\(path): \(String(cString: strerror(errno)))"
        }
        if (info.st_mode & S_IFMT) == S_IFDIR { return "\(path) is a directory, not a program" }
        if access(path, X_OK) != 0 { return "\(path) is not executable (chmod +x, or check its owner)" }
        return nil
    }

    /// The launcher: `$WHARF_LAUNCH`, else `wharf-launch` beside the running executable, else the
    /// one the package installs.
    static func launcher(environment: [String: String]) -> String {
        if let path = environment["WHARF_LAUNCH"], !path.isEmpty { return path }
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if length > 0 {
            let executable = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if let slash = executable.lastIndex(of: "/") {
                let beside = executable[..<slash] + "/wharf-launch"
                if access(String(beside), X_OK) == 0 { return String(beside) }
            }
        }
        return "/usr/lib/wharf/wharf-launch"
    }

    /// The directory holding `executable`.
    static func directory(of executable: String) -> String {
        guard let slash = executable.lastIndex(of: "/") else { return "/" }
        let directory = executable[..<slash]
        return directory.isEmpty ? "/" : String(directory)
    }

    /// The process environment as a dictionary.
    static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}
