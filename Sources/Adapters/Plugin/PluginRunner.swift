import AdapterKit
import CoreMetrics
import DequeModule
import Logging
import NIOCore
import NIOPosix
import PluginProtocol
import Synchronization
import WharfCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// What reaches a plugin's runner: ticks, session events of one process generation, and
/// operators' requests.
enum RunnerEvent: Sendable {
    case tick
    case session(generation: Int, SessionEvent)
    case restart
    case reloaded
    case stop
}

/// The runner's inbox. Waiting on it ignores task cancellation on purpose: a cancelled adapter
/// still has to stop its plugin (shutdown, SIGTERM, SIGKILL) before its task may end.
final class RunnerEvents: Sendable {
    private struct State {
        var events = Deque<RunnerEvent>()
        var waiter: CheckedContinuation<RunnerEvent, Never>?
    }

    private let state = Mutex(State())

    /// Delivers an event.
    func push(_ event: RunnerEvent) {
        let waiter: CheckedContinuation<RunnerEvent, Never>? = state.withLock { state in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            // A tick that finds one waiting is redundant.
            if case .tick = event, case .tick? = state.events.last { return nil }
            state.events.append(event)
            return nil
        }
        waiter?.resume(returning: event)
    }

    /// The next event, waiting for one.
    func next() async -> RunnerEvent {
        await withCheckedContinuation { continuation in
            let ready: RunnerEvent? = state.withLock { state in
                if let event = state.events.popFirst() { return event }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

/// Runs one plugin adapter: starts the process through the launcher, connects its pipes to a
/// session, and carries out what the supervision state machine decides (restarts with backoff,
/// health pings, quarantine, the stop sequence). Lives in the adapter's task; only its inbox,
/// board and metrics are shared.
final class PluginRunner {
    private struct Process {
        var pid: pid_t
        var generation: Int
        var channel: (any Channel)?
        var stderr: (any Channel)?
        var liveness: Liveness
        var seenViolations = 0
        var seenLine: UInt64 = 0
        /// When the launcher itself gets SIGKILL if it has not exited (it always should).
        var launcherKillAt: UInt64?
    }

    private let name: String
    private let settings: PluginSettings
    private let launch: PluginLaunch
    private let context: AdapterContext
    private let board: PluginBoard
    private let metrics: PluginMetrics
    private let events: RunnerEvents
    private let group: any EventLoopGroup
    private var supervisor: PluginSupervisor
    private var process: Process?
    private var generation = 0
    private var stopping = false
    private var reportedRestarts = 0

    init(
        settings: PluginSettings,
        launch: PluginLaunch,
        context: AdapterContext,
        board: PluginBoard,
        metrics: PluginMetrics,
        events: RunnerEvents
    ) {
        self.name = context.name
        self.settings = settings
        self.launch = launch
        self.context = context
        self.board = board
        self.metrics = metrics
        self.events = events
        self.group = context.eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
        self.supervisor = PluginSupervisor(
            name: context.name, policy: settings.supervisionPolicy, rng: SystemRandomNumberGenerator())
    }

    private var now: UInt64 { context.clock.now() }

    /// Runs until a stop request has been carried out and the process is gone.
    func run() async {
        let events = self.events
        let ticker = group.next().scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) {
            _ in events.push(.tick)
        }
        defer { ticker.cancel() }
        await perform(supervisor.start(now: now))
        while true {
            switch await events.next() {
            case .tick:
                await pollProcess()
                if let process {
                    let lastLine = process.liveness.lastLineAt
                    if lastLine != process.seenLine {
                        self.process?.seenLine = lastLine
                        supervisor.lineReceived(now: lastLine)
                    }
                    let violations = process.liveness.creditViolations
                    if violations > process.seenViolations {
                        self.process?.seenViolations = violations
                        for _ in 0..<min(violations - process.seenViolations, settings.maxCreditViolations + 1) {
                            await perform(supervisor.creditViolation(now: now))
                        }
                    }
                }
                await perform(supervisor.tick(now: now))
            case .session(let generation, let event):
                guard generation == self.generation else { continue }
                await handle(event)
            case .restart:
                guard !stopping else { continue }
                context.logger.notice("plugin restart requested by an operator")
                await perform(supervisor.operatorRestart(now: now))
            case .reloaded:
                guard !stopping, case .quarantined = supervisor.state else { continue }
                context.logger.notice("configuration reloaded; the quarantined plugin starts again")
                await perform(supervisor.operatorRestart(now: now))
            case .stop:
                guard !stopping else { continue }
                stopping = true
                await perform(supervisor.stop(now: now))
            }
            if stopping, case .stopped = supervisor.state, process == nil { break }
        }
        metrics.up.record(0)
    }

    private func handle(_ event: SessionEvent) async {
        switch event {
        case .ready(let ready):
            context.logger.notice(
                "plugin ready",
                metadata: [
                    "plugin.name": "\(ready.name)", "plugin.version": "\(ready.version)",
                    "plugin.protocol": "\(ready.protocolVersion)",
                    "plugin.subscriptions": "\(ready.subscriptions.count)",
                ])
            await perform(supervisor.ready(now: now))
        case .versionMismatch(let sentence):
            // The state machine logs the sentence, with what follows from it.
            await perform(supervisor.versionMismatch(now: now, message: sentence))
        case .health(let report):
            let status = PluginSupervisor.Health(rawValue: report.status.rawValue) ?? .degraded
            await perform(supervisor.healthReported(now: now, status: status, message: report.message))
        case .closed:
            await pollProcess()
        }
    }

    // MARK: Carrying out decisions

    private func perform(_ actions: [PluginSupervisor.Action]) async {
        for action in actions {
            switch action {
            case .spawn:
                await spawn()
            case .sendInit:
                send(.initialize(initMessage))
            case .sendHealthPing:
                send(.healthPing)
            case .sendShutdown(let grace):
                send(.shutdown(graceMilliseconds: grace))
            case .signal(let signal):
                guard let pid = process?.pid else { continue }
                switch signal {
                case .terminate:
                    PluginSpawner.send(SIGTERM, to: pid)
                case .kill:
                    PluginSpawner.send(SIGUSR1, to: pid)
                    if process?.launcherKillAt == nil { process?.launcherKillAt = now + 2_000_000_000 }
                }
            case .report(let state, let health, let detail):
                report(state: state, health: health, detail: detail)
            case .log(let level, let message):
                context.logger.log(level: level, "\(message)")
            }
        }
    }

    private func spawn() async {
        guard process == nil else { return }
        let spawned: SpawnedPlugin
        do {
            spawned = try PluginSpawner.spawn(launch)
        } catch {
            await perform(supervisor.spawnFailed(now: now, reason: error.description))
            return
        }
        generation += 1
        let generation = self.generation
        let liveness = Liveness()
        let events = self.events
        let setup = SessionSetup(
            name: name,
            bus: context.bus,
            credit: settings.credit,
            maxLineBytes: settings.maxLineBytes,
            logger: context.logger,
            clock: context.clock,
            metrics: metrics,
            board: board,
            commands: CommandQueue(
                maxCount: settings.maxQueuedCommands, maxBytes: settings.maxQueuedCommandBytes),
            liveness: liveness,
            events: { events.push(.session(generation: generation, $0)) }
        )
        let loop = group.next()
        var channel: (any Channel)?
        var stderr: (any Channel)?
        do {
            channel = try await NIOPipeBootstrap(group: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(PluginSessionHandler(setup: setup))
                    }
                }
                .takingOwnershipOfDescriptors(input: spawned.stdoutRead, output: spawned.stdinWrite)
                .get()
        } catch {
            close(spawned.stdoutRead)
            close(spawned.stdinWrite)
        }
        let logger = context.logger
        let clock = context.clock
        let metrics = self.metrics
        do {
            stderr = try await NIOPipeBootstrap(group: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            PluginStderrHandler(logger: logger, clock: clock, metrics: metrics))
                    }
                }
                .takingOwnershipOfDescriptor(input: spawned.stderrRead)
                .get()
        } catch {
            close(spawned.stderrRead)
        }
        process = Process(
            pid: spawned.pid, generation: generation, channel: channel, stderr: stderr, liveness: liveness)
        board.update {
            $0.pid = Int(spawned.pid)
            $0.protocolVersion = nil
            $0.pluginName = nil
            $0.pluginVersion = nil
            $0.refusedSubscriptions = []
        }
        guard channel != nil else {
            // Without its pipes the plugin cannot be served: end it at once and reap it here, so
            // that the state machine sees a failed start and never an exit of a process it did
            // not know was running.
            context.logger.error("cannot attach to the plugin's pipes; stopping it")
            stderr?.close(promise: nil)
            PluginSpawner.send(SIGKILL, to: spawned.pid)
            var status: CInt = 0
            _ = waitpid(spawned.pid, &status, 0)
            process = nil
            board.update { $0.pid = nil }
            await perform(supervisor.spawnFailed(now: now, reason: "cannot attach to the plugin's pipes"))
            return
        }
        context.logger.info(
            "plugin started",
            metadata: ["plugin.pid": "\(spawned.pid)", "plugin.command": "\(launch.executable)"])
        await perform(supervisor.spawned(now: now))
    }

    /// Reaps the launcher when it has exited and tells the state machine.
    private func pollProcess() async {
        guard let current = process else { return }
        guard let description = PluginSpawner.reap(current.pid) else {
            if let killAt = current.launcherKillAt, now >= killAt {
                context.logger.warning("plugin launcher did not exit after SIGUSR1; killing it")
                PluginSpawner.send(SIGKILL, to: current.pid)
                process?.launcherKillAt = nil
            }
            return
        }
        current.channel?.close(promise: nil)
        current.stderr?.close(promise: nil)
        process = nil
        board.update { $0.pid = nil }
        context.logger.info("plugin exited", metadata: ["plugin.exit": "\(description)"])
        await perform(supervisor.exited(now: now, description: description))
    }

    private func send(_ message: HostMessage) {
        guard let channel = process?.channel else { return }
        channel.eventLoop.execute {
            guard let handler = try? channel.pipeline.syncOperations.handler(type: PluginSessionHandler.self) else {
                return
            }
            handler.send(message)
        }
    }

    private var initMessage: InitMessage {
        InitMessage(
            protocolRange: PluginProtocolVersion.supported,
            capabilities: ["credit", "commands", "health", "log"],
            name: name,
            config: settings.config,
            credit: settings.credit,
            maxLineBytes: settings.maxLineBytes,
            healthIntervalMilliseconds: Int(clamping: settings.healthInterval.milliseconds),
            wharfVersion: wharfVersion
        )
    }

    // MARK: Status

    private func report(state: PluginSupervisor.State, health: PluginSupervisor.Health?, detail: String?) {
        let restarts = supervisor.restarts
        if restarts > reportedRestarts {
            metrics.restarts.increment(by: Int64(restarts - reportedRestarts))
            reportedRestarts = restarts
        }
        let stateName = state.statusName
        let adapterHealth: AdapterHealth =
            switch state {
            case .idle, .starting: .starting
            case .running:
                switch health ?? .healthy {
                case .healthy: .healthy
                case .degraded: .degraded(detail ?? "the plugin reports it is degraded")
                case .failed: .failed(detail ?? "the plugin reports it has failed")
                }
            case .backingOff: .degraded(detail ?? "restarting")
            case .stopping: .degraded("stopping")
            case .quarantined: .failed(detail ?? "quarantined")
            case .stopped: .stopped
            }
        board.update {
            $0.state = stateName
            $0.health = adapterHealth
            $0.restarts = restarts
        }
        metrics.up.record(state == .running ? 1 : 0)
        metrics.quarantined.record(state == .quarantined ? 1 : 0)
        publishStatus(state: stateName, health: adapterHealth, detail: detail)
    }

    private func publishStatus(state: String, health: AdapterHealth, detail: String?) {
        guard let topic = settings.statusTopic(for: name) else { return }
        let snapshot = board.read()
        let healthName: String
        var reason = detail
        switch health {
        case .starting: healthName = "starting"
        case .healthy: healthName = "healthy"
        case .degraded(let why):
            healthName = "degraded"
            reason = reason ?? why
        case .failed(let why):
            healthName = "failed"
            reason = reason ?? why
        case .stopped: healthName = "stopped"
        }
        var json = "{\"state\":" + JSONString.quoted(state) + ",\"health\":" + JSONString.quoted(healthName)
        json += ",\"detail\":" + (reason.map(JSONString.quoted) ?? "null")
        json += ",\"restarts\":\(snapshot.restarts)"
        json += ",\"plugin\":" + (snapshot.pluginName.map(JSONString.quoted) ?? "null")
        json += ",\"version\":" + (snapshot.pluginVersion.map(JSONString.quoted) ?? "null")
        json += ",\"protocol\":" + (snapshot.protocolVersion.map(String.init) ?? "null") + "}"
        let message = Message(
            topic: topic,
            payload: ByteBuffer(string: json),
            qos: .atLeastOnce,
            retain: true,
            properties: MessageProperties(payloadFormatIndicator: 1, contentType: "application/json"),
            principal: .broker,
            receivedAt: now
        )
        _ = context.bus.publish(message) { _ in }
    }
}
