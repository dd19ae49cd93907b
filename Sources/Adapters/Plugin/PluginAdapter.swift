public import AdapterKit
import Logging
import ServiceLifecycle
public import WharfConfig
import WharfCore

/// The plugin host (`type: plugin`): runs an executable that speaks the plugin protocol
/// (docs/plugins.md) on its stdin and stdout, as the principal `plugin:NAME`, and supervises it.
public struct PluginAdapter: ProcessAdapter {
    /// The config's `type:` value.
    public static let typeName = "plugin"

    /// The validated configuration.
    public let settings: PluginSettings
    private let launch: PluginLaunch
    private let context: AdapterContext
    private let board = PluginBoard()
    private let events = RunnerEvents()

    /// Reads and validates the adapter's section, and checks that the command can be started.
    public init(config: AdapterConfig, context: AdapterContext) throws(ConfigError) {
        settings = try PluginSettings(adapter: config)
        var context = context
        context.principal = .plugin(context.name)
        self.context = context
        let environment = PluginPaths.processEnvironment()
        let executable = PluginPaths.resolve(command: settings.command, environment: environment)
        if let problem = PluginPaths.problem(executable: executable) {
            let reader = ConfigReader(config.source)
            let node = reader.value("command") ?? config.source
            var hint = ""
            if !settings.command.hasPrefix("/") {
                hint = " (a relative command is looked up in \(PluginPaths.pluginDirectory(environment: environment)))"
            }
            throw ConfigError(issues: [node.issue("cannot start the plugin: \(problem)\(hint)")])
        }
        launch = PluginLaunch(
            launcher: PluginPaths.launcher(environment: environment),
            executable: executable,
            arguments: settings.arguments,
            environment: Self.environment(settings: settings, name: context.name, inherited: environment),
            workingDirectory: settings.workingDirectory ?? PluginPaths.directory(of: executable),
            memoryLimit: settings.memoryLimit,
            openFilesLimit: settings.openFilesLimit,
            cpuSecondsLimit: settings.cpuSecondsLimit
        )
    }

    /// The plugin's environment: a few of wharfd's variables (PATH, locale, time zone, HOME),
    /// `WHARF_PLUGIN_NAME`, then the section's `env`.
    static func environment(settings: PluginSettings, name: String, inherited: [String: String]) -> [String] {
        var variables: [(String, String)] = [
            ("PATH", inherited["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"),
            ("HOME", inherited["HOME"] ?? "/"),
        ]
        for key in ["LANG", "LC_ALL", "TZ"] {
            if let value = inherited[key] { variables.append((key, value)) }
        }
        variables.append(("WHARF_PLUGIN_NAME", name))
        for variable in settings.environment {
            variables.removeAll { $0.0 == variable.name }
            variables.append((variable.name, variable.value))
        }
        return variables.map { "\($0.0)=\($0.1)" }
    }

    /// Starting until the plugin is ready, then what it reports; degraded while it restarts,
    /// failed while quarantined.
    public var health: AdapterHealth { board.read().health }

    /// The process's state for the status API.
    public var processStatus: ProcessStatus { board.processStatus }

    /// The process's state once `condition` holds, checked at every change (at least once per
    /// batch of answered publishes) without polling: lets a caller wait, for example, for a
    /// number of publishes. Cancellation returns the state as it is then.
    public func processStatus(where condition: @escaping @Sendable (ProcessStatus) -> Bool) async -> ProcessStatus {
        await board.status(where: condition)
    }

    /// Restarts the plugin now, clearing a quarantine.
    public func restart() { events.push(.restart) }

    /// A reload kept this section: a quarantined plugin starts again.
    public func reloadedUnchanged() { events.push(.reloaded) }

    /// Runs and supervises the plugin until graceful shutdown or cancellation, then stops it
    /// (shutdown, SIGTERM, SIGKILL to its process group) before returning.
    public func run() async throws {
        let runner = PluginRunner(
            settings: settings,
            launch: launch,
            context: context,
            board: board,
            metrics: PluginMetrics(adapter: context.name),
            events: events
        )
        let events = self.events
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await runner.run()
            } onGracefulShutdown: {
                events.push(.stop)
            }
        } onCancel: {
            events.push(.stop)
        }
    }
}

extension PluginSettings {
    /// The supervision policy the section configures.
    var supervisionPolicy: PluginSupervisionPolicy {
        PluginSupervisionPolicy(
            backoff: backoff,
            maxRestarts: maxRestarts,
            restartWindow: restartWindow,
            startTimeout: startTimeout,
            healthInterval: healthInterval,
            healthTimeout: healthTimeout,
            shutdownGrace: shutdownGrace,
            maxCreditViolations: maxCreditViolations
        )
    }
}
