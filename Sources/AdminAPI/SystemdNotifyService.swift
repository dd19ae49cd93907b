public import Logging
public import ServiceLifecycle

/// Keeps systemd informed while the daemon runs: `WATCHDOG=1` every watchdog interval while the
/// live health check passes (so systemd restarts a daemon that hangs), and a `STATUS=` line
/// whenever it changes. Sends `STOPPING=1` when graceful shutdown begins.
public struct SystemdNotifyService: Service, CustomStringConvertible {
    let notifier: SystemdNotifier
    let statusInterval: Duration
    let logger: Logger
    let check: @Sendable () async -> HealthReport
    let statusLine: @Sendable () async -> String
    let clock: any Clock<Duration>

    /// Creates the service; `check` is the live health check, `statusLine` the current one-line status.
    public init(
        notifier: SystemdNotifier,
        statusInterval: Duration = .seconds(5),
        logger: Logger,
        clock: any Clock<Duration> = ContinuousClock(),
        check: @escaping @Sendable () async -> HealthReport,
        statusLine: @escaping @Sendable () async -> String
    ) {
        self.notifier = notifier
        self.statusInterval = statusInterval
        self.logger = logger
        self.clock = clock
        self.check = check
        self.statusLine = statusLine
    }

    /// The name in service lifecycle logs.
    public var description: String { "SystemdNotifyService" }

    /// The time between wake-ups: the watchdog interval when it is shorter than the status interval.
    var tick: Duration {
        guard let watchdog = notifier.watchdogInterval else { return statusInterval }
        return min(watchdog, statusInterval)
    }

    /// Pings and updates the status until graceful shutdown, then sends `STOPPING=1`.
    public func run() async throws {
        guard notifier.isEnabled else {
            try? await gracefulShutdown()
            return
        }
        var wasHealthy = true
        var lastStatus = ""
        let watchdog = notifier.watchdogInterval
        // Both start due, so the first ping and status line go out at once.
        var sinceWatchdog = watchdog ?? .zero
        var sinceStatus = statusInterval
        let tick = self.tick
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if let watchdog, sinceWatchdog >= watchdog {
                sinceWatchdog = .zero
                let report = await check()
                if report.isHealthy {
                    notifier.watchdog()
                    if !wasHealthy { logger.notice("health check passes again; watchdog pings resumed") }
                } else if wasHealthy {
                    logger.error(
                        "health check failed; watchdog pings withheld",
                        metadata: ["health.problems": "\(report.problems.joined(separator: "; "))"]
                    )
                }
                wasHealthy = report.isHealthy
            }
            if sinceStatus >= statusInterval {
                sinceStatus = .zero
                let line = await statusLine()
                if line != lastStatus {
                    notifier.status(line)
                    lastStatus = line
                }
            }
            try? await cancelWhenGracefulShutdown {
                try await clock.sleep(for: tick)
            }
            sinceWatchdog += tick
            sinceStatus += tick
        }
        notifier.stopping(status: "stopping")
    }
}
