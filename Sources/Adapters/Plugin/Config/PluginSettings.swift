import PluginProtocol
import WharfCore

/// One `env:` entry of a plugin's section.
public struct EnvironmentVariable: Sendable, Equatable {
    /// The variable's name.
    public var name: String
    /// Its value.
    public var value: String

    /// Creates an entry.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// The validated section of one `type: plugin` adapter (docs/plugins.md, "Configuring a plugin").
public struct PluginSettings: Sendable, Equatable {
    /// The executable as written: absolute, or relative to the plugin directory.
    public var command: String = ""
    /// Arguments after the command.
    public var arguments: [String] = []
    /// Variables added to the plugin's environment, in the order written.
    public var environment: [EnvironmentVariable] = []
    /// Where the plugin runs; `nil` means the directory that holds the command.
    public var workingDirectory: String?
    /// The plugin's own `config:` section, passed through in `init`.
    public var config: PluginJSON = .object([])
    /// Unanswered QoS 1/2 publishes the plugin may have.
    public var credit = 64
    /// The longest line either side may write, without its newline.
    public var maxLineBytes = 1 << 20
    /// How long the plugin has to answer `init` with `ready`.
    public var startTimeout: Duration = .seconds(30)
    /// How often the host asks for the plugin's health.
    public var healthInterval: Duration = .seconds(10)
    /// How long the plugin may stay silent after a health ping before it counts as hung.
    public var healthTimeout: Duration = .seconds(30)
    /// How long each step of a stop (shutdown, then SIGTERM) waits before the next.
    public var shutdownGrace: Duration = .seconds(5)
    /// Restart delays after a crash.
    public var backoff = BackoffPolicy(base: .seconds(1), cap: .seconds(60), stableAfter: .seconds(30))
    /// Crashes within `restartWindow` before the plugin is quarantined.
    public var maxRestarts = 5
    /// The window `maxRestarts` and `maxCreditViolations` are counted in.
    public var restartWindow: Duration = .seconds(600)
    /// Publishes beyond the credit within `restartWindow` before the plugin is restarted.
    public var maxCreditViolations = 100
    /// Commands waiting for a plugin that does not read them, by count.
    public var maxQueuedCommands = 1000
    /// Commands waiting for a plugin that does not read them, by payload bytes.
    public var maxQueuedCommandBytes = 1 << 20
    /// RLIMIT_AS for the plugin in bytes; 0 for none.
    public var memoryLimit = 0
    /// RLIMIT_NOFILE for the plugin; 0 for none.
    public var openFilesLimit = 0
    /// RLIMIT_CPU for the plugin in seconds; 0 for none.
    public var cpuSecondsLimit = 0
    /// The retained status topic with `{name}` not yet replaced; empty for none.
    public var statusTopic = "plugins/{name}/$status"

    /// The defaults.
    public init() {}
}
