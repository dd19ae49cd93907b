import AdminAPI
import Logging
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A Unix datagram socket owned by the test, standing in for systemd's notify socket.
final class NotifySocket {
    let fd: Int32
    let name: String
    private let path: String?

    /// A socket at a file path, or an abstract one (`@...`) when `abstract` is set.
    init(abstract: Bool = false) throws {
        let unique = "wharf-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        name = abstract ? "@\(unique)" : "/tmp/\(unique).sock"
        path = abstract ? nil : name
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(length)) }
        }
        try #require(result == 0, "bind \(name): \(String(cString: strerror(errno)))")
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(fd)
        if let path { unlink(path) }
    }

    /// The next datagram, or nil after the 2 s timeout.
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }

    /// Every datagram until none arrives for `quiet` milliseconds.
    func drain(quietMilliseconds: Int = 300) -> [String] {
        var timeout = timeval(tv_sec: 0, tv_usec: Int(quietMilliseconds) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var messages: [String] = []
        while let message = receive() { messages.append(message) }
        return messages
    }
}

@Suite struct SystemdNotifierTests {
    @Test func sendsReadyWithStatusToAPathSocket() throws {
        let socket = try NotifySocket()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.name])
        #expect(notifier.isEnabled)
        #expect(notifier.ready(status: "serving 3 clients\nqueue 0"))
        #expect(socket.receive() == "READY=1\nSTATUS=serving 3 clients queue 0\n")
    }

    @Test func sendsToAnAbstractSocket() throws {
        let socket = try NotifySocket(abstract: true)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.name])
        #expect(notifier.watchdog())
        #expect(socket.receive() == "WATCHDOG=1\n")
        #expect(notifier.stopping())
        #expect(socket.receive() == "STOPPING=1\n")
    }

    @Test func reloadingCarriesTheMonotonicClock() throws {
        let socket = try NotifySocket()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.name])
        notifier.reloading()
        let message = try #require(socket.receive())
        let lines = message.split(separator: "\n")
        #expect(lines.first == "RELOADING=1")
        let usec = try #require(lines.dropFirst().first)
        #expect(usec.hasPrefix("MONOTONIC_USEC="))
        #expect((UInt64(usec.dropFirst("MONOTONIC_USEC=".count)) ?? 0) > 0)
    }

    @Test func doesNothingWithoutASocket() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        #expect(!notifier.ready())
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative/path"]).isEnabled)
    }

    @Test func watchdogIntervalIsHalfTheTimeoutForThisProcessOnly() {
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "4000000"]).watchdogInterval == .seconds(2))
        #expect(
            SystemdNotifier(environment: ["WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "1"], pid: 1).watchdogInterval
                == .seconds(2))
        #expect(
            SystemdNotifier(environment: ["WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "1"], pid: 2).watchdogInterval
                == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "0"]).watchdogInterval == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "soon"]).watchdogInterval == nil)
    }
}

/// The service's timing, observed by sleeping (not blocking a thread) while datagrams queue up
/// in the socket, then reading them without waiting.
@Suite(.serialized) struct SystemdNotifyServiceTests {
    @Test func pingsOnlyWhileHealthyAndSaysStopping() async throws {
        let socket = try NotifySocket()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.name, "WATCHDOG_USEC": "40000"])
        let healthy = HealthFlag()
        let service = SystemdNotifyService(
            notifier: notifier,
            statusInterval: .milliseconds(20),
            logger: Logger(label: "test"),
            check: { healthy.report },
            statusLine: { "serving 0 clients" }
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            try await Task.sleep(for: .milliseconds(200))
            #expect(socket.drain(quietMilliseconds: 1).contains("WATCHDOG=1\n"))
            healthy.set(false)
            try await Task.sleep(for: .milliseconds(60))
            _ = socket.drain(quietMilliseconds: 1)
            try await Task.sleep(for: .milliseconds(200))
            #expect(!socket.drain(quietMilliseconds: 1).contains("WATCHDOG=1\n"))
            group.cancelAll()
        }
        #expect(socket.drain(quietMilliseconds: 50).last == "STOPPING=1\nSTATUS=stopping\n")
    }

    @Test func sendsWatchdogAndStatusOnceUntilItChanges() async throws {
        let socket = try NotifySocket()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.name, "WATCHDOG_USEC": "40000"])
        let service = SystemdNotifyService(
            notifier: notifier,
            statusInterval: .milliseconds(20),
            logger: Logger(label: "test"),
            check: { .healthy },
            statusLine: { "serving 0 clients" }
        )
        var messages: [String] = []
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            // Until two watchdog pings came (bounded, however loaded the machine is).
            for _ in 0..<100 where messages.filter({ $0 == "WATCHDOG=1\n" }).count < 2 {
                try await Task.sleep(for: .milliseconds(50))
                messages += socket.drain(quietMilliseconds: 1)
            }
            group.cancelAll()
        }
        messages += socket.drain(quietMilliseconds: 50)
        #expect(messages.filter { $0 == "WATCHDOG=1\n" }.count >= 2)
        #expect(messages.filter { $0 == "STATUS=serving 0 clients\n" }.count == 1)
    }
}

/// A health answer the test can flip.
final class HealthFlag: Sendable {
    private let healthy = Synchronization.Atomic<Bool>(true)

    var report: HealthReport { healthy.load(ordering: .relaxed) ? .healthy : HealthReport(problems: ["broken"]) }

    func set(_ value: Bool) { healthy.store(value, ordering: .relaxed) }
}
