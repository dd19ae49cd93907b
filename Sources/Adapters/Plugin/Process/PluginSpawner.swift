#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A started launcher: its pid and wharfd's ends of the plugin's three pipes.
struct SpawnedPlugin: Sendable {
    /// The launcher's pid; signals to it reach the plugin's process group.
    var pid: pid_t
    /// Where wharfd writes the plugin's stdin.
    var stdinWrite: CInt
    /// Where wharfd reads the plugin's stdout.
    var stdoutRead: CInt
    /// Where wharfd reads the plugin's stderr.
    var stderrRead: CInt
}

/// Why a plugin could not be started.
struct PluginSpawnError: Error, Sendable, CustomStringConvertible {
    var description: String
}

/// Starts the launcher with `posix_spawn`: the pipes are made close-on-exec, so only the
/// three ends moved onto 0, 1 and 2 reach the child, and every signal starts at its default
/// disposition and unblocked (wharfd ignores SIGPIPE; a plugin must not inherit that).
enum PluginSpawner {
    static func spawn(_ launch: PluginLaunch) throws(PluginSpawnError) -> SpawnedPlugin {
        var stdinPipe: [CInt] = [-1, -1]
        var stdoutPipe: [CInt] = [-1, -1]
        var stderrPipe: [CInt] = [-1, -1]
        func closeAll() {
            for fd in stdinPipe + stdoutPipe + stderrPipe where fd >= 0 { close(fd) }
        }
        // Close-on-exec at once; a descriptor that slipped through a concurrent fork is still
        // closed by the launcher, which closes everything above 2 before it starts the plugin.
        func makePipe(_ ends: inout [CInt]) -> Bool {
            guard pipe(&ends) == 0 else { return false }
            return fcntl(ends[0], F_SETFD, FD_CLOEXEC) == 0 && fcntl(ends[1], F_SETFD, FD_CLOEXEC) == 0
        }
        guard makePipe(&stdinPipe), makePipe(&stdoutPipe), makePipe(&stderrPipe) else {
            let reason = String(cString: strerror(errno))
            closeAll()
            throw PluginSpawnError(description: "cannot create the plugin's pipes: \(reason)")
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = [launch.launcher] + launch.launcherArguments(parent: getpid())
        var pid: pid_t = 0
        let status = withCStrings(argv) { arguments in
            withCStrings(launch.environment) { environment in
                posix_spawn(&pid, launch.launcher, &actions, &attributes, arguments, environment)
            }
        }
        close(stdinPipe[0])
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard status == 0 else {
            close(stdinPipe[1])
            close(stdoutPipe[0])
            close(stderrPipe[0])
            throw PluginSpawnError(
                description: "cannot start \(launch.launcher): \(String(cString: strerror(status)))")
        }
        return SpawnedPlugin(
            pid: pid, stdinWrite: stdinPipe[1], stdoutRead: stdoutPipe[0], stderrRead: stderrPipe[0])
    }

    /// Reaps the launcher if it has exited: its status as text, or `nil` while it runs.
    static func reap(_ pid: pid_t) -> String? {
        var status: CInt = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == 0 { return nil }
        if result < 0 { return errno == ECHILD ? "exited (status unknown)" : nil }
        return describe(status)
    }

    /// "exit status 3", "killed by signal 9" (the launcher passes the plugin's status on as
    /// 128 + signal).
    static func describe(_ status: CInt) -> String {
        let signal = status & 0x7f
        if signal == 0 {
            let code = (status >> 8) & 0xff
            if code > 128 && code < 128 + 65 { return "killed by signal \(code - 128)" }
            return "exit status \(code)"
        }
        return "launcher killed by signal \(signal)"
    }

    /// Sends `signal` to the launcher (which forwards SIGTERM to the plugin's group and turns
    /// SIGUSR1 into SIGKILL for it).
    static func send(_ signal: CInt, to pid: pid_t) {
        _ = kill(pid, signal)
    }
}

/// Calls `body` with a NULL-terminated array of C strings that live for the call.
private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for pointer in pointers { free(pointer) } }
    return body(pointers)
}
