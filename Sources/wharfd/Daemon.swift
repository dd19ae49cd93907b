import AdapterKit
import AdminAPI
import ArgumentParser
import Broker
import Logging
import NIOCore
import NIOPosix
import RemoteConfigHost
import ServiceLifecycle
import UnixSignals
import Uplink
import WharfChecks
import WharfConfig
import WharfCore
import WharfGateway
import WharfSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Builds Wharf's services from the configuration and runs them until SIGTERM or SIGINT;
/// reloads the configuration on SIGHUP.
struct Daemon {
    /// The local file's configuration, with the command-line overrides.
    var configuration: WharfConfiguration
    /// The local file as read, which remote configuration overlays.
    var localTree: ConfigNode
    var configPath: String
    /// The command-line overrides, applied again to every reloaded configuration.
    var overrides: @Sendable (inout WharfConfiguration) -> Void = { _ in }

    func run() async throws {
        try Self.checkDescriptorLimit()
        let levels = LogLevels(configuration.log)
        // The admin API's log ring; its size is read here, so a change takes effect at a restart.
        let logRing = LogRing(capacity: configuration.admin.enabled ? configuration.admin.logLines : 0)
        LoggingSystem.bootstrap { label in WharfLogHandler(label: label, levels: levels, ring: logRing) }
        let metricsRegistry = GatewayMetrics.bootstrapPrometheus()
        let logger = Logger(label: "wharf.main")
        let notifier = SystemdNotifier.fromProcessEnvironment()
        // Trapped before anything starts: SIGHUP's default action would end the process.
        let hangups = await UnixSignalsSequence(trapping: .sighup)

        try Self.prepareDataDirectory(configuration.storage.dataDirectory)
        // Remote configuration decides what runs: the last-known-good, or a provisional version
        // whose countdown continues (docs/remote-config.md).
        let remote = try startRemoteConfiguration()
        var configuration = self.configuration
        if let remote {
            configuration = remote.plan.running.configuration
            overrides(&configuration)
            levels.update(configuration.log)
        }
        let gatewayID = configuration.gateway.id.isEmpty ? Self.hostName() : configuration.gateway.id
        let hostBox = LateValue<RemoteConfigHost>()
        let control = remote.flatMap { remote -> UplinkControl? in
            guard configuration.uplink.enabled else { return nil }
            return UplinkControl(
                subscriptions: [remote.desiredTopic(gatewayID)],
                onMessage: { _, bytes in hostBox.value?.documentArrived(bytes) },
                onConnection: { hostBox.value?.uplinkChanged(endpoint: $0) })
        }
        // Read before anything starts: a missing or malformed file stops wharfd with file:line.
        let accessControl = try MQTTBroker.loadAccessControl(configuration.broker)
        let adminTLS = try Self.adminTLS(configuration.admin)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let runtimeBox = LateValue<DaemonRuntime>()
        let gateway: Gateway
        do {
            gateway = try await Gateway.make(
                configuration: configuration,
                gatewayID: gatewayID,
                version: wharfVersion,
                group: group,
                control: control
            ) { addresses in
                runtimeBox.value?.listenersBound(addresses)
                logger.notice(
                    "wharfd ready",
                    metadata: [
                        "gateway": "\(gatewayID)",
                        "version": "\(wharfVersion)",
                        "listeners": "\(addresses.map { "\($0)" }.joined(separator: ","))",
                    ]
                )
                notifier.ready(status: runtimeBox.value?.statusLine() ?? "ready")
            }
        } catch {
            try? await group.shutdownGracefully()
            try remote?.failedStart(error.description, logger: logger)
            throw StartupError(error.description, exitCode: 1)
        }
        gateway.broker.updateAccessControl(accessControl)

        let registry = Self.adapterRegistry()
        let supervisor: AdapterSupervisor
        do {
            supervisor = try AdapterSupervisor(
                registry: registry,
                bus: gateway.broker,
                configs: configuration.adapters,
                file: remote?.source ?? configPath,
                eventLoopGroup: group
            )
        } catch {
            await gateway.close()
            try? await group.shutdownGracefully()
            try remote?.failedStart(error.description, logger: logger)
            throw StartupError(error.description, exitCode: 1)
        }
        // The same warnings as `--check`, for a start without it.
        for warning in Self.configWarnings(configuration, file: configPath) { logger.warning("\(warning)") }
        let runtime = DaemonRuntime(
            configuration: configuration,
            version: wharfVersion,
            gatewayID: gatewayID,
            gateway: gateway,
            supervisor: supervisor,
            group: group
        )
        runtimeBox.value = runtime
        let restart = RestartRequest()
        if let remote {
            let host = remote.makeHost(
                gatewayID: gatewayID,
                target: DaemonRemoteTarget(
                    runtime: runtime, levels: levels, control: control,
                    reportedTopic: remote.reportedTopic(gatewayID), restart: restart))
            hostBox.value = host
            runtime.remoteConfig = host
        }

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = gateway.services.map { .init(service: $0) }
        services.append(.init(service: supervisor))
        if configuration.admin.enabled {
            let history = History(interval: configuration.admin.historyInterval)
            services.append(.init(service: HistorySampler(history: history) { await runtime.historyCounters() }))
            let routes = AdminRoutes(
                provider: runtime, registry: metricsRegistry,
                maxRemoteConfigBytes: configuration.remoteConfig.maxDocumentBytes, logs: logRing, history: history)
            let adminLogger = Logger(label: "wharf.admin")
            let access = AdminAccess(
                settings: .init(configuration.admin), logger: adminLogger,
                check: Self.adminPasswordCheck(configuration))
            services.append(
                .init(
                    service: AdminServer(
                        routes: routes, configuration: configuration.admin, logger: adminLogger, group: group,
                        access: access, tls: adminTLS)
                )
            )
        }
        if let host = hostBox.value { services.append(.init(service: host)) }
        services.append(
            .init(
                service: ConfigReloader(
                    path: configPath,
                    hangups: hangups,
                    runtime: runtime,
                    levels: levels,
                    notifier: notifier,
                    overrides: overrides,
                    remote: hostBox.value
                )
            )
        )
        // Last, so it is the first to hear of graceful shutdown and sends STOPPING=1 at once.
        services.append(
            .init(
                service: SystemdNotifyService(
                    notifier: notifier,
                    logger: Logger(label: "wharf.systemd"),
                    check: { await runtime.health() },
                    statusLine: { runtime.statusLine() }
                )
            )
        )

        let serviceGroup = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: logger
            )
        )
        restart.onRequest {
            Task {
                // A moment for the answer to `wharfctl config apply` to leave before the API stops.
                try? await Task.sleep(for: .milliseconds(100))
                await serviceGroup.triggerGracefulShutdown()
            }
        }
        // Once start-up is over (the adapters start within a moment of the group), the pages of
        // code it ran are unmapped; what runs again maps back (ImagePages, docs/benchmarks.md).
        let startupPages = Task {
            try await Task.sleep(for: .seconds(3))
            let released = ImagePages.releaseStartupPages()
            logger.debug("start-up code pages released", metadata: ["bytes": "\(released ?? 0)"])
        }
        defer { startupPages.cancel() }
        do {
            try await serviceGroup.run()
        } catch {
            logger.error("wharfd stopped", metadata: ["error": "\(error)"])
            notifier.stopping(status: "stopped: \(error)")
            await gateway.close()
            try? await group.shutdownGracefully()
            // A provisional configuration the services failed with is rolled back, and wharfd restarts.
            try remote?.failedStart("\(error)", current: hostBox.value?.machine(), logger: logger)
            throw ExitCode.failure
        }
        await gateway.close()
        try? await group.shutdownGracefully()
        if restart.isRequested {
            logger.notice("wharfd restarting for remote configuration")
            Self.restartProcess(logger: logger)
        }
        logger.notice("wharfd stopped")
    }

    /// The adapters built into this wharfd.
    static func adapterRegistry() -> AdapterRegistry {
        BuiltinAdapters.registry()
    }

    /// Builds every adapter section (disabled ones too) without running it and reads the
    /// password and ACL files, as `--check` does, reporting every problem at once.
    static func checkAdapters(_ configuration: WharfConfiguration, file: String) throws(StartupError) {
        let problems = ConfigCheck.problems(in: configuration, file: file)
        guard !problems.isEmpty else { return }
        throw StartupError(
            problems.joined(separator: "\n")
                + "\n\(file): \(problems.count) problem\(problems.count == 1 ? "" : "s") found",
            exitCode: 1
        )
    }

    /// What `--check` warns about without refusing the file (see `ConfigCheck.warnings`).
    static func configWarnings(_ configuration: WharfConfiguration, file: String) -> [String] {
        ConfigCheck.warnings(in: configuration, file: file)
    }

    static func prepareDataDirectory(_ path: String) throws(StartupError) {
        if let reason = Directory.create(path) {
            throw StartupError("storage.data_dir: cannot create '\(path)': \(reason)", exitCode: 1)
        }
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "wharf" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension Daemon {
    /// Raises the soft open-file limit to the hard one and refuses to start below
    /// ``DescriptorLimit/minimum``: without descriptors, event loops cannot be created (a fatal
    /// error in NIO) and the Swift runtime's thread-pool monitor traps.
    static func checkDescriptorLimit() throws {
        guard let soft = DescriptorLimit.raiseSoftLimit(), soft < DescriptorLimit.minimum else { return }
        throw StartupError(
            "the open-file limit (ulimit -n, LimitNOFILE) is \(soft); wharfd needs at least \(DescriptorLimit.minimum)",
            exitCode: 1
        )
    }
}
