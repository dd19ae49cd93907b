import WharfCore

/// How one plugin is supervised: restart delays, quarantine, the start and health timeouts and the stop grace.
public struct PluginSupervisionPolicy: Sendable, Hashable {
    /// Restart delays after a crash (full jitter); `stableAfter` of running resets them to `base`.
    public var backoff: BackoffPolicy
    /// Crashes tolerated within `restartWindow`; the next one quarantines the plugin (0...65535).
    public var maxRestarts: Int
    /// The sliding window crashes and credit violations are counted in.
    public var restartWindow: Duration
    /// How long a spawned plugin has to answer `init` with `ready`.
    public var startTimeout: Duration
    /// How often a running plugin is sent a health ping (at least 1 ms).
    public var healthInterval: Duration
    /// How long after an unanswered ping a plugin that sent no line at all counts as hung.
    public var healthTimeout: Duration
    /// How long a plugin has to exit after `shutdown`, and again after SIGTERM, before the next step.
    public var shutdownGrace: Duration
    /// Credit violations tolerated within `restartWindow`; the next one restarts the plugin (0...65535).
    public var maxCreditViolations: Int

    /// Creates a policy; the defaults are those of the `plugin` adapter's configuration.
    public init(
        backoff: BackoffPolicy = BackoffPolicy(base: .seconds(1), cap: .seconds(60), stableAfter: .seconds(30)),
        maxRestarts: Int = 5,
        restartWindow: Duration = .seconds(600),
        startTimeout: Duration = .seconds(30),
        healthInterval: Duration = .seconds(10),
        healthTimeout: Duration = .seconds(30),
        shutdownGrace: Duration = .seconds(5),
        maxCreditViolations: Int = 100
    ) {
        self.backoff = backoff
        self.maxRestarts = maxRestarts
        self.restartWindow = restartWindow
        self.startTimeout = startTimeout
        self.healthInterval = healthInterval
        self.healthTimeout = healthTimeout
        self.shutdownGrace = shutdownGrace
        self.maxCreditViolations = maxCreditViolations
    }

    /// The defaults: backoff 1 s to 60 s (stable after 30 s), 5 restarts in 10 min, start 30 s,
    /// health every 10 s with a 30 s timeout, 5 s grace, 100 credit violations.
    public static let standard = PluginSupervisionPolicy()
}
