/// How the conformance kit drives a plugin (`wharfctl plugin test`).
public struct ConformanceSettings: Sendable {
    /// The instance name sent in `init`.
    public var name: String
    /// The `config` sent in `init`.
    public var config: PluginJSON
    /// The credit sent in `init`; small, so that a plugin meets its limit quickly.
    public var credit: Int
    /// The line limit sent in `init`.
    public var maxLineBytes: Int
    /// The health interval sent in `init` (the kit pings when it needs to, not on this schedule).
    public var healthIntervalMilliseconds: Int
    /// How long the plugin has for `ready` and for each health answer.
    public var timeout: Duration
    /// How long the kit waits for a first QoS 1/2 publish before it skips the credit checks.
    public var publishWindow: Duration
    /// How long a plugin with answers withheld must stay quiet to show that it waits for credit.
    public var settle: Duration
    /// How long the kit waits for a reply to its command.
    public var commandWindow: Duration
    /// The `grace_ms` of `shutdown`, and how long the kit waits for the exit.
    public var shutdownGrace: Duration
    /// The version sent in `init.wharf.version`.
    public var wharfVersion: String

    /// Creates settings; the defaults suit a plugin that starts within seconds.
    public init(
        name: String = "conformance",
        config: PluginJSON = .object([]),
        credit: Int = 4,
        maxLineBytes: Int = 1_048_576,
        healthIntervalMilliseconds: Int = 10_000,
        timeout: Duration = .seconds(10),
        publishWindow: Duration = .seconds(3),
        settle: Duration = .seconds(1),
        commandWindow: Duration = .seconds(1),
        shutdownGrace: Duration = .seconds(5),
        wharfVersion: String
    ) {
        self.name = name
        self.config = config
        self.credit = max(1, credit)
        self.maxLineBytes = maxLineBytes
        self.healthIntervalMilliseconds = healthIntervalMilliseconds
        self.timeout = timeout
        self.publishWindow = publishWindow
        self.settle = settle
        self.commandWindow = commandWindow
        self.shutdownGrace = shutdownGrace
        self.wharfVersion = wharfVersion
    }
}
