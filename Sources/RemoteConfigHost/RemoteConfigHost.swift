public import Logging
public import RemoteConfig
public import RemoteConfigState
public import ServiceLifecycle
import Synchronization
public import WharfConfig
import WharfCore
import WharfSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the remote configuration lifecycle in the daemon: checks each document that arrives (from
/// the cloud or from `wharfctl config apply`), feeds the state machine with the documents, the
/// uplink's state, the health checks and the time, and performs what it answers, one event at a
/// time, in order.
public final class RemoteConfigHost: Service, Sendable {
    /// What arrives in the inbox.
    enum Input: Sendable {
        case document([UInt8], reply: (@Sendable (RemoteConfigLocalOutcome) -> Void)?)
        case uplink(endpoint: String?)
        case tick
    }

    /// What the host knows besides the machine, touched only by the run loop.
    struct Work: Sendable {
        var machine: RemoteConfigMachine
        /// The configuration running now.
        var running: RunningConfiguration
        /// The candidate being tried: its bytes, its configuration and the ACL content it sends.
        var pending: (version: UInt64, bytes: [UInt8], running: RunningConfiguration, acl: String?)?
        /// The newest document from the cloud, for `reconsiderDesired`.
        var latestDesired: [UInt8]?
        /// The last health answer given to the machine.
        var healthy: Bool?
        /// A restart the machine asked for, carried out once the current input is answered (so that
        /// `wharfctl config apply` hears the outcome before the daemon goes).
        var restartRequested = false
        /// The local file as last read.
        var localTree: ConfigNode
        /// The cloud broker the uplink is connected to, for the report; nil while not connected.
        var uplinkEndpoint: String?
    }

    private let gatewayID: String
    private let settings: RemoteConfigConfig
    private let files: RemoteConfigFiles
    private let target: any RemoteConfigTarget
    /// Whether the running configuration has an uplink; without one, confirmation waits for the
    /// health checks alone.
    private let uplinkEnabled: Bool
    private let logger: Logger
    private let clock = SystemClock()
    private let inbox: AsyncStream<Input>
    private let inboxContinuation: AsyncStream<Input>.Continuation
    private let work: Mutex<Work>
    private let snapshotState: Mutex<RemoteConfigSnapshot>

    /// Creates the host with the machine and the configuration the daemon started with.
    public init(
        gatewayID: String,
        settings: RemoteConfigConfig,
        localTree: ConfigNode,
        files: RemoteConfigFiles,
        machine: RemoteConfigMachine,
        running: RunningConfiguration,
        target: any RemoteConfigTarget,
        uplinkEnabled: Bool,
        logger: Logger
    ) {
        self.uplinkEnabled = uplinkEnabled
        self.gatewayID = gatewayID
        self.settings = settings
        self.files = files
        self.target = target
        self.logger = logger
        (inbox, inboxContinuation) = AsyncStream<Input>.makeStream()
        work = Mutex(Work(machine: machine, running: running, localTree: localTree))
        snapshotState = Mutex(
            RemoteConfigSnapshot(
                report: machine.report, sources: running.sources, effectiveConfigHash: running.hash,
                confirmationSecondsLeft: nil, state: machine.state))
    }

    /// The cloud topics' prefix for this gateway (`wharf/gw1/config`).
    public var topicPrefix: String { settings.prefix(gatewayID: gatewayID) }
    /// The cloud topic documents arrive on.
    public var desiredTopic: String { settings.prefix(gatewayID: gatewayID) + "/desired" }
    /// The cloud topic the report is retained on.
    public var reportedTopic: String { settings.prefix(gatewayID: gatewayID) + "/reported" }

    /// A document arrived from the cloud; one larger than `max_document_bytes` is refused unread.
    public func documentArrived(_ bytes: [UInt8]) {
        guard bytes.count <= settings.maxDocumentBytes else {
            let limit = settings.maxDocumentBytes
            logger.warning(
                "remote configuration document refused: \(bytes.count) bytes, more than remote_config.max_document_bytes (\(limit))"
            )
            return
        }
        inboxContinuation.yield(.document(bytes, reply: nil))
    }

    /// The uplink connected to `endpoint` (`host:port`), or lost its connection (nil).
    public func uplinkChanged(endpoint: String?) {
        inboxContinuation.yield(.uplink(endpoint: endpoint))
    }

    /// Checks and applies a document given on this machine (`wharfctl config apply`), with the same
    /// checks as one from the cloud; answers once it is staged and applied, or rejected.
    public func applyLocally(_ bytes: [UInt8]) async -> RemoteConfigLocalOutcome {
        await withCheckedContinuation { continuation in
            inboxContinuation.yield(.document(bytes, reply: { continuation.resume(returning: $0) }))
        }
    }

    /// The machine as it is now (for the daemon, once the services have stopped).
    public func machine() -> RemoteConfigMachine {
        work.withLock { $0.machine }
    }

    /// The state as the status page shows it.
    public func snapshot() -> RemoteConfigSnapshot {
        snapshotState.withLock { $0 }
    }

    /// Handles the inbox and the time until graceful shutdown.
    public func run() async {
        publish(work.withLock { $0.machine.report }, hash: work.withLock { $0.running.hash })
        // A gateway without an uplink has no link to wait for (documents come by `wharfctl config apply`).
        if !uplinkEnabled { await process(.uplinkConnected) }
        await withDiscardingTaskGroup { group in
            group.addTask {
                // The countdown, the checkpoints and the health checks advance on this beat.
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    self.inboxContinuation.yield(.tick)
                }
            }
            for await input in inbox.cancelOnGracefulShutdown() {
                await handle(input)
            }
            group.cancelAll()
        }
    }

    private func handle(_ input: Input) async {
        if work.withLock({ $0.restartRequested }) {
            // The daemon is going: what comes now is handled after the restart (the cloud's
            // retained document arrives again).
            if case .document(_, let reply?) = input {
                reply(
                    RemoteConfigLocalOutcome(
                        result: "ignored", version: nil, errors: [],
                        message: "the daemon is restarting for remote configuration; try again in a moment"))
            }
            return
        }
        defer { restartIfRequested() }
        switch input {
        case .document(let bytes, let reply):
            if reply == nil { work.withLock { $0.latestDesired = bytes } }
            let outcome = await consider(bytes)
            reply?(outcome)
        case .uplink(let endpoint):
            let moved = work.withLock { work in
                defer { if endpoint != nil { work.uplinkEndpoint = endpoint } }
                return endpoint != nil && endpoint != work.uplinkEndpoint
            }
            // A report names the endpoint in use: after a failover the cloud hears where the gateway is.
            if moved { publish(work.withLock { $0.machine.report }, hash: work.withLock { $0.running.hash }) }
            await process(endpoint != nil ? .uplinkConnected : .uplinkLost)
        case .tick:
            let (state, deadline, lastHealth) = work.withLock {
                ($0.machine.state, $0.machine.nextDeadline, $0.healthy)
            }
            if state == .applying || state == .pendingConfirmation {
                let healthy = await target.healthy()
                if healthy != lastHealth {
                    work.withLock { $0.healthy = healthy }
                    await process(healthy ? .healthPassed : .healthFailed)
                }
            }
            if let deadline, clock.now() >= deadline { await process(.tick) }
            updateSnapshot()
        }
    }

    /// Verifies a document and hands the machine its verdict; the outcome for a local caller.
    private func consider(_ bytes: [UInt8]) async -> RemoteConfigLocalOutcome {
        let (record, running) = work.withLock { ($0.machine.record, $0.running) }
        let version: UInt64
        switch await verify(bytes, record: record, running: running) {
        case .failure(let unreadable):
            logger.warning(
                "remote configuration document refused: \(unreadable.description)",
                metadata: ["remote_config.result": "rejected"])
            return RemoteConfigLocalOutcome(
                result: "rejected", version: nil, errors: unreadable.errors,
                message: "the document cannot be read (not even its version)")
        case .success(let (event, documentVersion)):
            version = documentVersion
            await process(event)
        }
        let (attempt, highest) = work.withLock { ($0.machine.record.lastAttempt, $0.machine.record.highestVersion) }
        guard let attempt, attempt.version == version, attempt != record.lastAttempt else {
            let why =
                version <= highest
                ? "version \(version) was already handled (the highest version seen is \(highest))"
                : "another remote configuration is being tried; version \(version) waits for it"
            return RemoteConfigLocalOutcome(result: "ignored", version: version, errors: [], message: why)
        }
        let message: String
        switch attempt.result {
        case .pendingConfirmation:
            message =
                "applied, provisionally: confirmed once the uplink and the health checks hold for "
                + ConfigUnits.format(settings.confirmAfter) + ", rolled back otherwise within "
                + ConfigUnits.format(settings.confirmWithin)
        case .applied: message = "applied and confirmed"
        case .rejected: message = "rejected; nothing changed"
        case .rolledBack: message = "rolled back to the last-known-good configuration"
        }
        return RemoteConfigLocalOutcome(
            result: attempt.result.rawValue, version: version, errors: attempt.errors, message: message)
    }

    /// Problems that mean the document is not an authentic, current one for this gateway: such a
    /// document is reported but never raises the version floor.
    static let unauthenticKinds: Set<RemoteConfigProblem.Kind> = [
        .malformed, .unsigned, .unknownKeyID, .badSignature, .wrongGateway, .notYetValid, .expired,
    ]

    /// The machine's event for a document: accepted (with what it changes) or rejected with every
    /// problem; a failure when not even its version can be read.
    private func verify(_ bytes: [UInt8], record: RemoteConfigRecord, running: RunningConfiguration) async
        -> Result<(RemoteConfigMachine.Event, UInt64), ReportedErrors>
    {
        let parsed: RemoteConfigDocument
        switch RemoteConfigDocument.parse(bytes) {
        case .success(let document) where document.version > 0:
            parsed = document
        case .success:
            return rejectUnreadable(
                bytes, [ReportedError(path: "version", message: "must be a whole number from 1 [malformed]")])
        case .failure(let rejection):
            return rejectUnreadable(bytes, rejection.problems.map(ReportedError.init))
        }
        let version = UInt64(parsed.version)
        let keys: TrustedKeys
        switch TrustedKeyDirectory.load(settings.trustedKeysDirectory) {
        case .success(let loaded):
            keys = loaded
        case .failure(let failure):
            let error = ReportedError(path: "key_id", message: failure.description)
            return .success((.documentRejected(version: version, errors: [error], raisesFloor: false), version))
        }
        let context = VerificationContext(
            gateway: gatewayID, trustedKeys: keys, settings: RemoteConfigSettings(settings),
            lastAppliedVersion: record.highestVersion == 0 ? nil : Int(clamping: record.highestVersion),
            now: Int64(time(nil)))
        let localTree = work.withLock { $0.localTree }
        switch RemoteConfigVerifier.verify(bytes, local: localTree, context: context) {
        case .failure(let rejection):
            let authentic = rejection.problems.allSatisfy { !Self.unauthenticKinds.contains($0.kind) }
            let errors = rejection.problems.map(ReportedError.init)
            return .success((.documentRejected(version: version, errors: errors, raisesFloor: authentic), version))
        case .success(let accepted):
            let candidate = RunningConfiguration.remote(
                accepted.effective, version: version, aclPath: files.aclPath(version))
            let changes = ConfigChanges(from: running.configuration, to: candidate.configuration)
            let problems = await target.check(
                candidate, acl: accepted.effective.acl, checkUplink: changes.uplinkConnectionChanged)
            guard problems.isEmpty else {
                return .success((.documentRejected(version: version, errors: problems), version))
            }
            work.withLock { $0.pending = (version, bytes, candidate, accepted.effective.acl) }
            let accepted = Candidate(version: version, sections: changes.sections, needsRestart: changes.needsRestart)
            return .success((.documentAccepted(accepted), version))
        }
    }

    /// A document that is not a valid one: reported under its version when that can still be read
    /// (never raising the floor), otherwise only logged by the caller.
    private func rejectUnreadable(_ bytes: [UInt8], _ errors: [ReportedError])
        -> Result<(RemoteConfigMachine.Event, UInt64), ReportedErrors>
    {
        guard let version = Self.readableVersion(bytes) else { return .failure(ReportedErrors(errors)) }
        return .success((.documentRejected(version: version, errors: errors, raisesFloor: false), version))
    }

    /// The `version` of a JSON object that is otherwise not a valid document, when it is a whole
    /// number from 1.
    static func readableVersion(_ bytes: [UInt8]) -> UInt64? {
        guard case .success(.object(let members)) = JSONParser.parse(bytes),
            let member = members.first(where: { $0.key == "version" }), case .number(let number) = member.value,
            let version = number.intValue, version > 0
        else { return nil }
        return UInt64(version)
    }

    /// Hands one event to the machine and performs its actions; actions that answer with an event
    /// (staged, applied, rolled back) are handled in turn before this returns.
    private func process(_ first: RemoteConfigMachine.Event) async {
        var events = [first]
        while !events.isEmpty {
            let event = events.removeFirst()
            let now = clock.now()
            let wallNow = Int64(time(nil))
            let actions = work.withLock { $0.machine.handle(event, now: now, wallNow: wallNow) }
            for action in actions {
                guard let follow = await perform(action) else { continue }
                if case .stop = follow {
                    updateSnapshot()
                    return
                }
                if case .event(let next) = follow { events.append(next) }
            }
        }
        updateSnapshot()
    }

    private enum FollowUp {
        case event(RemoteConfigMachine.Event)
        case stop
    }

    private func perform(_ action: RemoteConfigMachine.Action) async -> FollowUp? {
        switch action {
        case .writeStaged(let candidate):
            guard let pending = work.withLock({ $0.pending }), pending.version == candidate.version else {
                return .event(.stageFailed(version: candidate.version, message: "the document is no longer at hand"))
            }
            do {
                try files.stage(version: pending.version, document: pending.bytes, acl: pending.acl)
                return .event(.stagedWritten(version: candidate.version))
            } catch {
                return .event(.stageFailed(version: candidate.version, message: error.description))
            }
        case .persist(let record, let reason):
            do {
                try files.writeRecord(record)
            } catch {
                // Nothing can be promised without the record: stop here, the daemon keeps running
                // what it runs, and the next start resumes from the last record written.
                logger.critical(
                    "cannot write the remote configuration record (\(reason.rawValue)): \(error.description)")
                return .stop
            }
        case .applyLive(let candidate):
            guard let pending = work.withLock({ $0.pending }), pending.version == candidate.version else {
                return .event(
                    .applyFailed(
                        version: candidate.version,
                        errors: [ReportedError(path: "", message: "the configuration is no longer at hand")]))
            }
            let problems = await target.applyLive(pending.running)
            guard problems.isEmpty else { return .event(.applyFailed(version: candidate.version, errors: problems)) }
            work.withLock { $0.running = pending.running }
            // The report now carries the hash of what runs.
            publish(work.withLock { $0.machine.report }, hash: pending.running.hash)
            return .event(.appliedLive(version: candidate.version))
        case .restartDaemon:
            requestRestart()
            return .stop
        case .start:
            // Only `resume` answers this, at start.
            break
        case .rollBack(let version, let byRestart):
            if byRestart {
                requestRestart()
                return .stop
            }
            let lastKnownGood = lastKnownGoodConfiguration(version)
            let problems = await target.applyLive(lastKnownGood)
            if !problems.isEmpty {
                logger.error(
                    "restoring the last-known-good configuration live failed; restarting with it",
                    metadata: ["remote_config.errors": "\(ReportedErrors(problems))"])
                requestRestart()
                return .stop
            }
            work.withLock {
                $0.running = lastKnownGood
                $0.pending = nil
            }
            return .event(.rolledBackLive)
        case .removeStaged(let keeping):
            do { try files.removeStaged(keeping: keeping) } catch {
                logger.warning("cannot remove an old staged configuration: \(error.description)")
            }
        case .publishReport(let report):
            publish(report, hash: work.withLock { $0.running.hash })
        case .reconsiderDesired:
            if let bytes = work.withLock({ $0.latestDesired }) {
                inboxContinuation.yield(.document(bytes, reply: nil))
            }
        case .log(let level, let message):
            switch level {
            case .info: logger.info("\(message)")
            case .notice: logger.notice("\(message)")
            case .warning: logger.warning("\(message)")
            }
        }
        return nil
    }

    /// Notes that the daemon must restart; inputs are no longer handled.
    private func requestRestart() {
        work.withLock { $0.restartRequested = true }
    }

    /// Restarts the daemon if that was requested while handling the current input.
    private func restartIfRequested() {
        if work.withLock({ $0.restartRequested }) { target.restartDaemon() }
    }

    /// The last-known-good configuration: the local file alone for version 0, else its staged
    /// document on the local file (the local file alone if that fails, which is logged).
    func lastKnownGoodConfiguration(_ version: UInt64) -> RunningConfiguration {
        RemoteConfigStartup.configuration(
            version: version, files: files, localTree: work.withLock { $0.localTree }, settings: settings,
            logger: logger)
    }

    /// The local file was read again (SIGHUP): the running remote version on it, which becomes the
    /// running configuration, or why it is not valid on it (nothing changes then).
    public func localFileChanged(tree: ConfigNode, configuration: WharfConfiguration)
        -> Result<RunningConfiguration, ReportedErrors>
    {
        let version = work.withLock { $0.running.version }
        let result: Result<RunningConfiguration, ReportedErrors> =
            version == 0
            ? .success(.local(tree: tree, configuration: configuration))
            : RunningConfiguration.staged(
                version: version, files: files, local: tree, settings: RemoteConfigSettings(settings))
        if case .success(let running) = result {
            work.withLock {
                $0.localTree = tree
                $0.running = running
            }
            updateSnapshot()
        }
        return result
    }

    private func publish(_ report: RemoteConfigReport, hash: String) {
        target.publishReport(
            report.document(effectiveConfigHash: hash, uplinkEndpoint: work.withLock { $0.uplinkEndpoint }))
    }

    private func updateSnapshot() {
        let now = clock.now()
        let snapshot = work.withLock { work in
            var left: Double?
            if work.machine.state == .pendingConfirmation || work.machine.state == .applying,
                let remaining = work.machine.confirmationRemaining(now: now)
            {
                left = Double(remaining) / 1e9
            }
            return RemoteConfigSnapshot(
                report: work.machine.report, sources: work.running.sources, effectiveConfigHash: work.running.hash,
                confirmationSecondsLeft: left, state: work.machine.state)
        }
        snapshotState.withLock { $0 = snapshot }
    }
}
