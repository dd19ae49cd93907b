import PluginProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A plugin started for the conformance kit: its pid (also its process group) and the parent's
/// ends of its three pipes, all non-blocking.
struct PluginProcess {
    /// Why the plugin could not be started.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let pid: pid_t
    /// The write end of the plugin's stdin; -1 once closed.
    var input: Int32
    /// The read end of the plugin's stdout; -1 once closed.
    var output: Int32
    /// The read end of the plugin's stderr; -1 once closed.
    var errors: Int32

    /// Starts `path` with `arguments` in a process group of its own, with the current environment.
    static func spawn(path: String, arguments: [String]) throws(Failure) -> PluginProcess {
        // A write to a plugin that exited must fail with EPIPE, not end wharfctl.
        signal(SIGPIPE, SIG_IGN)
        let stdinPipe = try makePipe()
        let stdoutPipe = try makePipe()
        let stderrPipe = try makePipe()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // The originals are close-on-exec: the plugin keeps only its three standard descriptors.
        posix_spawn_file_actions_adddup2(&actions, stdinPipe.read, 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe.write, 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe.write, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        for fd in [stdinPipe.read, stdoutPipe.write, stderrPipe.write] { close(fd) }
        guard status == 0 else {
            for fd in [stdinPipe.write, stdoutPipe.read, stderrPipe.read] { close(fd) }
            throw Failure(description: "cannot start \(path): \(String(cString: strerror(status)))")
        }
        for fd in [stdinPipe.write, stdoutPipe.read, stderrPipe.read] {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        return PluginProcess(pid: pid, input: stdinPipe.write, output: stdoutPipe.read, errors: stderrPipe.read)
    }

    private static func makePipe() throws(Failure) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw Failure(description: "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }

    /// The plugin's exit once it has ended (reaped), or nil while it runs.
    func reap() -> PluginExit? {
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        // The wait status layout (WIFEXITED and friends are macros Swift cannot call).
        let signal = status & 0x7F
        return signal == 0 ? .status((status >> 8) & 0xFF) : .signal(signal)
    }

    /// Sends `signal` to the plugin's whole process group.
    func signalGroup(_ signal: Int32) {
        kill(-pid, signal)
    }

    /// Closes the parent's end of a pipe.
    static func release(_ fd: inout Int32) {
        if fd >= 0 { close(fd) }
        fd = -1
    }
}
