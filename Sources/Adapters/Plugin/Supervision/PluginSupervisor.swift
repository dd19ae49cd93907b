import Logging
import WharfCore

/// The supervision of one plugin process as a pure state machine: the host feeds it what happened
/// (spawned, ready, a line, an exit, a tick at `nextDeadline`) and executes the actions it returns.
///
/// No I/O, clock or thread: time arrives as `now` in nanoseconds of a `WharfClock`, randomness (the
/// backoff jitter) from the generator given at creation. At most one process exists at a time: after
/// `.spawn` the next `.spawn` comes only once the host reported `exited` or `spawnFailed`.
public struct PluginSupervisor: Sendable {
    /// Where the plugin is in its life.
    public enum State: Sendable, Hashable {
        /// Created, not started yet.
        case idle
        /// A process was spawned (or is being spawned) and has not sent `ready` yet.
        case starting
        /// The plugin sent `ready` and is being health-checked.
        case running
        /// The plugin crashed; it is respawned when the backoff delay is over (and the old process exited).
        case backingOff
        /// A stop (or an operator's restart) is under way: shutdown, SIGTERM, SIGKILL until it exits.
        case stopping
        /// Too many crashes or an incompatible protocol: no more spawns until `operatorRestart`.
        case quarantined
        /// Stopped on request; the process has exited.
        case stopped

        /// The state as the retained `$status` and the status API name it.
        public var statusName: String {
            switch self {
            case .idle, .stopped: "stopped"
            case .starting: "starting"
            case .running: "running"
            case .backingOff: "backoff"
            case .stopping: "stopping"
            case .quarantined: "quarantined"
            }
        }
    }

    /// The plugin's health, as in the protocol's `health` message (the raw values are its strings).
    public enum Health: String, Sendable, Hashable {
        /// Working.
        case healthy
        /// Partly working.
        case degraded
        /// Not working.
        case failed
    }

    /// A signal the host sends to the plugin's whole process group.
    public enum Signal: Sendable, Hashable {
        /// SIGTERM.
        case terminate
        /// SIGKILL.
        case kill
    }

    /// What the host must do, in order.
    public enum Action: Sendable, Hashable {
        /// Start the process now; answer with `spawned` or `spawnFailed`.
        case spawn
        /// Write `init` (comes right after `spawned`).
        case sendInit
        /// Write `{"type":"health"}`.
        case sendHealthPing
        /// Write `{"type":"shutdown","grace_ms":…}`.
        case sendShutdown(graceMilliseconds: Int)
        /// Send the signal to the plugin's whole process group.
        case signal(Signal)
        /// Publish `$status` and set the adapter's health; emitted only when one of the three changed.
        case report(state: State, health: Health?, detail: String?)
        /// Write this line to the log (it names the plugin and the reason).
        case log(level: Logger.Level, message: String)
    }

    /// The plugin's name (`adapters[].name`), used in log lines.
    public let name: String
    /// The policy followed.
    public let policy: PluginSupervisionPolicy
    /// The current state.
    public internal(set) var state: State = .idle
    /// The health last reported: the plugin's own while starting or running, `failed` after a crash,
    /// `nil` while unknown (idle, starting before the plugin said anything, stopping, stopped).
    public internal(set) var health: Health?
    /// Why the health is what it is: the plugin's message, the crash or the quarantine reason.
    public internal(set) var detail: String?
    /// Restarts after crashes, hangs and credit violations (counted when the new process is spawned).
    public internal(set) var restarts: Int = 0

    /// The jitter source; an existential so the supervisor stays one concrete, storable type.
    var rng: any RandomNumberGenerator & Sendable
    var backoff: Backoff
    var crashes: EventWindow
    var creditViolations: EventWindow
    /// The process as far as the supervisor knows.
    var process: ProcessPhase = .none
    /// The stop escalation of the current process, once one was asked for.
    var termination: Termination?
    /// A stop was asked for while the process was still being spawned: terminate it once `spawned`.
    var terminateOnSpawn = false
    /// Spawn again once the process being stopped has exited (an operator's restart).
    var restartAfterStop = false
    /// The next spawn is a restart after a crash, counted in `restarts`.
    var restartPending = false
    /// `ready` must come before this.
    var startDeadline: UInt64?
    /// When the next health ping is due.
    var nextPingAt: UInt64?
    /// When the oldest ping not followed by any line was sent.
    var unansweredPingSince: UInt64?
    /// When the plugin last proved alive (ready or any line).
    var lastAliveAt: UInt64?
    /// When the backoff delay ends; `nil` once it ended (the spawn may still wait for the old process).
    var backoffUntil: UInt64?
    /// The last report emitted, to emit the next one only on a change; idle is where every plugin
    /// begins, so it is not reported.
    var lastReport = Report(state: .idle, health: nil, detail: nil)

    /// The process as far as the supervisor knows.
    enum ProcessPhase: Sendable, Hashable {
        /// None (never spawned, exited, or the spawn failed).
        case none
        /// `.spawn` was emitted; `spawned` or `spawnFailed` has not come yet.
        case spawning
        /// Running (until `exited`).
        case alive
    }

    /// The steps of stopping a process: shutdown, then SIGTERM, then SIGKILL.
    enum Termination: Sendable, Hashable {
        /// `shutdown` was sent; SIGTERM follows at `until`.
        case shutdownSent(until: UInt64)
        /// SIGTERM was sent; SIGKILL follows at `until`.
        case terminated(until: UInt64)
        /// SIGKILL was sent; nothing is left to do but wait for `exited`.
        case killed
    }

    /// The triple a `.report` publishes.
    struct Report: Sendable, Hashable {
        var state: State
        var health: Health?
        var detail: String?
    }

    /// Creates the supervisor of the plugin `name`, idle until `start`.
    public init(
        name: String,
        policy: PluginSupervisionPolicy,
        rng: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) {
        self.name = name
        self.policy = policy
        self.rng = rng
        self.backoff = Backoff(policy: policy.backoff)
        self.crashes = EventWindow(limit: policy.maxRestarts, window: policy.restartWindow)
        self.creditViolations = EventWindow(limit: policy.maxCreditViolations, window: policy.restartWindow)
    }

    /// When the host must call `tick` next; `nil` while nothing is pending but a host event.
    public var nextDeadline: UInt64? {
        var deadlines: [UInt64?] = []
        switch termination {
        case .shutdownSent(let until), .terminated(let until): deadlines.append(until)
        case .killed, nil: break
        }
        switch state {
        case .starting: deadlines.append(startDeadline)
        case .running: deadlines += [nextPingAt, healthDeadline]
        case .backingOff: deadlines.append(backoffUntil)
        case .idle, .stopping, .quarantined, .stopped: break
        }
        return deadlines.compactMap { $0 }.min()
    }

    /// When a plugin that sends nothing more counts as hung.
    var healthDeadline: UInt64? {
        unansweredPingSince.map { Self.deadline($0, plus: policy.healthTimeout) }
    }

    /// The ping interval in nanoseconds, at least 1 ms so that pings cannot spin.
    var healthIntervalNanoseconds: UInt64 {
        max(Self.nanoseconds(policy.healthInterval), 1_000_000)
    }
}
