import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A real Mosquitto broker for one test: 127.0.0.1, a free port, its own config file and directory.
/// Started with `start()`, stopped by its PID with `stop()` (SIGTERM) and killed at the latest on deinit.
final class Mosquitto: Sendable {
    static let executable = "/usr/sbin/mosquitto"

    /// The port of the plain listener (another one is chosen if the first turns out to be taken).
    var port: Int { portState.withLock { $0 } }
    private let portState: Mutex<Int>
    /// Whether the port was chosen here (so it may be changed) rather than given.
    private let portChosen: Bool
    /// A scratch directory for the config, the log and the persistence file; removed on deinit.
    let directory: URL
    /// Lines appended to the config after the listener (TLS listeners, limits).
    let extraConfiguration: [String]
    /// Whether the broker saves sessions and queued messages in `directory` when stopped.
    let persistence: Bool
    /// Whether the log records every packet (slow; for tests that look for packets in it).
    let verboseLog: Bool
    /// The broker's PID while it runs (spawned directly, so that this helper alone reaps it).
    private let process = Mutex<pid_t?>(nil)

    /// Prepares a broker on a free port (or `port`, to come back on the same one).
    init(port: Int? = nil, persistence: Bool = false, verboseLog: Bool = false, configuration: [String] = [])
        async throws
    {
        if let port {
            portState = Mutex(port)
            portChosen = false
        } else {
            portState = Mutex(try await freePort())
            portChosen = true
        }
        self.persistence = persistence
        self.verboseLog = verboseLog
        self.extraConfiguration = configuration
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "wharf-mosquitto-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        if let pid {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The PID while running.
    var pid: pid_t? {
        process.withLock { pid in
            guard let running = pid else { return nil }
            var status: Int32 = 0
            // -1 (ECHILD): somebody else in the process reaped it; it is gone all the same.
            let result = waitpid(running, &status, WNOHANG)
            if result == running || (result == -1 && kill(running, 0) != 0) {
                pid = nil
                return nil
            }
            return running
        }
    }

    /// Writes the config and starts the broker; returns once it accepts connections on every port.
    /// A chosen port found taken when the broker binds it (its log says "Address already in use",
    /// and a connect may have reached whoever holds it) is replaced by another, up to five times.
    func start(waitingFor ports: [Int] = []) async throws {
        for attempt in 1...5 {
            try launch()
            for port in [self.port] + ports {
                try await waitUntilListening(port: port)
            }
            // A broker that could not bind exits at once: give it a moment to show it.
            try await Task.sleep(for: .milliseconds(50))
            guard pid == nil || log.contains("Address already in use") else { return }
            await stop()
            guard portChosen, attempt < 5 else { throw MosquittoError(message: "mosquitto did not start: \(log)") }
            let next = try await freePort()
            portState.withLock { $0 = next }
            try? FileManager.default.removeItem(at: directory.appendingPathComponent("mosquitto.log"))
        }
    }

    /// Writes the config and spawns the broker.
    private func launch() throws {
        let config = directory.appendingPathComponent("mosquitto.conf")
        let lines =
            [
                "listener \(port) 127.0.0.1",
                "allow_anonymous true",
                "persistence \(persistence)",
                "persistence_location \(directory.path)/",
                // The tests count every message: no queue limit may drop one.
                "max_queued_messages 0",
                "set_tcp_nodelay true",
                "user root",
                "log_dest file \(directory.appendingPathComponent("mosquitto.log").path)",
                "log_type \(verboseLog ? "all" : "error warning notice")",
            ] + extraConfiguration
        try (lines.joined(separator: "\n") + "\n").write(to: config, atomically: true, encoding: .utf8)
        let pid = try spawn(Self.executable, ["-c", config.path])
        process.withLock { $0 = pid }
    }

    /// Stops the broker with SIGTERM (it saves persistence then) and waits for it to exit.
    func stop() async {
        guard let pid else { return }
        kill(pid, SIGTERM)
        // A frozen broker takes the signal as it resumes, before it reads anything more.
        kill(pid, SIGCONT)
        for _ in 0..<500 where self.pid != nil {
            try? await Task.sleep(for: .milliseconds(10))
        }
        if let pid = self.pid {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        process.withLock { $0 = nil }
    }

    /// Freezes the broker (SIGSTOP): it keeps its sockets but reads nothing and acknowledges nothing.
    func freeze() {
        if let pid { kill(pid, SIGSTOP) }
    }

    /// The broker's log so far, for failure messages.
    var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("mosquitto.log"), encoding: .utf8)) ?? ""
    }

    private func waitUntilListening(port: Int) async throws {
        for _ in 0..<500 {
            if pid == nil {
                throw MosquittoError(message: "mosquitto exited at start: \(log)")
            }
            if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port).get()
            {
                try? await channel.close()
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw MosquittoError(message: "mosquitto is not listening on \(port): \(log)")
    }
}

struct MosquittoError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Ports ``freePort()`` handed out in this test process: none is handed out twice.
private let handedOutPorts = Mutex<Set<Int>>([])

/// A TCP port nothing listens on right now, from just below the kernel's ephemeral range (which
/// starts at 32768 by default) and never handed out twice. A port the kernel chose would be one
/// it can give to the next client socket of any test running meanwhile, and Mosquitto, started
/// later or restarted on the same port after an outage, would find it taken.
func freePort() async throws -> Int {
    let rangeFile = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
    let ephemeralStart = rangeFile?.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32768
    let candidates = max(1024, ephemeralStart - 12000)..<max(1024, ephemeralStart)
    for _ in 0..<(candidates.count >= 1000 ? 200 : 0) {
        let port = Int.random(in: candidates)
        guard handedOutPorts.withLock({ $0.insert(port).inserted }) else { continue }
        guard
            let channel = try? await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: port).get()
        else { continue }
        try await channel.close()
        return port
    }
    throw MosquittoError(message: "no free TCP port on 127.0.0.1 in \(candidates)")
}

/// Starts `path` with `arguments`, output discarded; returns its PID.
func spawn(_ path: String, _ arguments: [String]) throws -> pid_t {
    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    // Threads of the test process may block or ignore signals; the broker must see SIGTERM.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGTERM, SIGINT, SIGPIPE, SIGCHLD, SIGHUP] { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    let result = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
    guard result == 0 else { throw MosquittoError(message: "cannot start \(path): error \(result)") }
    return pid
}
