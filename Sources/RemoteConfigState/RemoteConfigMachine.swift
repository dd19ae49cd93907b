/// The apply / confirm / roll back lifecycle of remote configuration, as a pure state machine: the host
/// feeds it events with the time (`now`, nanoseconds of a monotonic clock; `wallNow`, wall-clock
/// seconds for what must outlive a reboot) and performs the actions it returns, in order.
/// What must survive a crash is in `record`, which the host writes on every `.persist`.
public struct RemoteConfigMachine: Sendable {
    /// Where the lifecycle is.
    public enum State: String, Sendable, Hashable, CaseIterable {
        /// Running the last-known-good; nothing tried yet since the daemon started.
        case idle
        /// A document was accepted; its configuration is being written to disk.
        case staged
        /// Written, provisional marker set; being applied live, or the daemon is restarting with it.
        case applying
        /// Provisional: waiting for the uplink and the health checks to hold for `confirmAfter`,
        /// within the time left of `confirmWithin`.
        case pendingConfirmation
        /// The last attempt was confirmed: it is the last-known-good.
        case confirmed
        /// The last-known-good is being restored live.
        case rollingBack
        /// The last attempt was rolled back; the last-known-good runs.
        case rolledBack
        /// The last document was rejected; nothing changed.
        case rejected

        /// Whether a new document may be tried: nothing is under way.
        public var isAtRest: Bool {
            switch self {
            case .idle, .confirmed, .rolledBack, .rejected: return true
            case .staged, .applying, .pendingConfirmation, .rollingBack: return false
            }
        }
    }

    /// What happened, as the host tells it.
    public enum Event: Sendable, Hashable {
        /// A document passed every check (signature, version, section policy, validation).
        case documentAccepted(Candidate)
        /// A document failed a check; `errors` name each problem with its key path. Only an
        /// authentic document (signed by a trusted key, or unsigned where allowed; for this gateway;
        /// within its validity times) `raisesFloor`: otherwise anyone able to publish a document
        /// with a high version could make the gateway refuse every real one below it.
        case documentRejected(version: UInt64, errors: [ReportedError], raisesFloor: Bool = true)
        /// The `.writeStaged` of this version is on disk (written, fsynced, renamed).
        case stagedWritten(version: UInt64)
        /// The `.writeStaged` of this version failed.
        case stageFailed(version: UInt64, message: String)
        /// The `.applyLive` of this version completed: the changed adapters and plugins run.
        case appliedLive(version: UInt64)
        /// Applying this version failed (live, or the daemon could not start with it).
        case applyFailed(version: UInt64, errors: [ReportedError])
        /// The live `.rollBack` completed: the last-known-good runs.
        case rolledBackLive
        /// The uplink is connected to the cloud broker.
        case uplinkConnected
        /// The uplink lost its connection.
        case uplinkLost
        /// The health checks (adapters, plugins, broker listeners) pass.
        case healthPassed
        /// A health check fails.
        case healthFailed
        /// Time passed; call at `nextDeadline` or later.
        case tick
    }

    /// Why a record is written.
    public enum PersistReason: String, Sendable, Hashable {
        /// The provisional marker is set: the staged version is being tried.
        case provisionalMarkerSet = "provisional-marker-set"
        /// A start with the provisional configuration is counted.
        case startCounted = "start-counted"
        /// The time left of the countdown is saved.
        case checkpoint
        /// The provisional version becomes the last-known-good; the marker is cleared.
        case promoted
        /// The marker is cleared without promotion: the last-known-good runs again.
        case rolledBack = "rolled-back"
        /// A document was rejected: the version floor and the report changed.
        case rejected
    }

    /// Which configuration the daemon starts with (the answer of `resume`).
    public enum StartChoice: Sendable, Hashable {
        /// The last-known-good remote version overlaid on the local file (0: the local file alone).
        case lastKnownGood(version: UInt64)
        /// The staged provisional version.
        case provisional(Candidate)
    }

    /// The level of a log line.
    public enum LogLevel: String, Sendable, Hashable {
        /// Routine progress.
        case info
        /// A result an operator wants to see.
        case notice
        /// A rollback or a rejection.
        case warning
    }

    /// What the host must do, in order; each action completes before the next is performed.
    public enum Action: Sendable, Hashable {
        /// Write the candidate's configuration under the data directory (temp file, fsync, rename,
        /// fsync of the directory); answer `stagedWritten` or `stageFailed`.
        case writeStaged(Candidate)
        /// Write this record (temp file, fsync, rename, fsync of the directory) before going on.
        case persist(RemoteConfigRecord, reason: PersistReason)
        /// Restart the changed adapters and plugins with the staged configuration; answer
        /// `appliedLive` or `applyFailed`.
        case applyLive(Candidate)
        /// Restart the daemon (systemd, or re-executing itself); it will `resume` from the record.
        case restartDaemon
        /// At start: run this configuration.
        case start(StartChoice)
        /// Restore the last-known-good `version`: live (answer `rolledBackLive`) or by restarting the daemon.
        case rollBack(toVersion: UInt64, byRestart: Bool)
        /// Delete every staged configuration file but those of these versions.
        case removeStaged(keeping: Set<UInt64>)
        /// Publish this report (retained) if the uplink is connected.
        case publishReport(RemoteConfigReport)
        /// A document of this version arrived while another was being tried: check it again now.
        case reconsiderDesired(version: UInt64)
        /// Write this line to the log.
        case log(level: LogLevel, message: String)
    }

    /// The policy followed.
    public let policy: ConfirmationPolicy
    /// The current state.
    public internal(set) var state: State
    /// What is on disk once the last `.persist` is done (plus fields only reports need).
    public internal(set) var record: RemoteConfigRecord
    /// The candidate between `documentAccepted` and the end of its attempt.
    var candidate: Candidate?
    /// When the candidate was received (wall-clock seconds).
    var receivedAt: Int64 = 0
    /// When the countdown ends (monotonic), while applying or pending confirmation.
    var deadline: UInt64?
    /// When the countdown was last saved (monotonic).
    var lastCheckpoint: UInt64 = 0
    /// Since when the uplink has been connected and the health checks passing, while pending.
    var holdingSince: UInt64?
    /// Whether the uplink is connected.
    var uplinkConnected = false
    /// Whether the health checks pass.
    var healthy = false
    /// A newer document that arrived while another was under way.
    var deferred: UInt64?

    /// A machine at rest in `state` with `record`.
    init(policy: ConfirmationPolicy, state: State, record: RemoteConfigRecord) {
        self.policy = policy
        self.state = state
        self.record = record
    }

    /// The report as of now.
    public var report: RemoteConfigReport { RemoteConfigReport(record: record) }

    /// Nanoseconds left of the countdown at `now`, while a configuration is provisional.
    public func confirmationRemaining(now: UInt64) -> UInt64? {
        guard let deadline, state == .applying || state == .pendingConfirmation else { return nil }
        return deadline > now ? deadline - now : 0
    }

    /// When the host must send `.tick` next; `nil` while only a host event can change anything.
    public var nextDeadline: UInt64? {
        guard let deadline, state == .applying || state == .pendingConfirmation else { return nil }
        var deadlines = [deadline, ConfirmationPolicy.deadline(lastCheckpoint, plus: policy.checkpointNanoseconds)]
        if state == .pendingConfirmation, let holdingSince {
            deadlines.append(ConfirmationPolicy.deadline(holdingSince, plus: policy.confirmAfterNanoseconds))
        }
        return deadlines.min()
    }
}
