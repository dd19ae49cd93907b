extension RemoteConfigMachine {
    /// At most this many errors are kept in an attempt, so the record and the report stay small.
    static let maxErrors = 64

    /// Handles one event and returns what the host must do, in order.
    public mutating func handle(_ event: Event, now: UInt64, wallNow: Int64) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .documentAccepted(let candidate):
            accept(candidate, wallNow: wallNow, into: &actions)
        case .documentRejected(let version, let errors, let raisesFloor):
            if !raisesFloor {
                refuseUnauthentic(version: version, errors: errors, wallNow: wallNow, into: &actions)
            } else if shouldConsider(version, into: &actions) {
                reject(version: version, errors: errors, sections: [], wallNow: wallNow, into: &actions)
            }
        case .stagedWritten(let version):
            staged(version: version, now: now, wallNow: wallNow, into: &actions)
        case .stageFailed(let version, let message):
            guard state == .staged, let candidate, candidate.version == version else { break }
            let error = ReportedError(path: "", message: "could not be staged: \(message)")
            reject(version: version, errors: [error], sections: candidate.sections, wallNow: wallNow, into: &actions)
        case .appliedLive(let version):
            guard state == .applying, let candidate, candidate.version == version, !candidate.needsRestart else {
                break
            }
            state = .pendingConfirmation
            holdingSince = uplinkConnected && healthy ? now : nil
        case .applyFailed(let version, let errors):
            guard state == .applying || state == .pendingConfirmation, candidate?.version == version else { break }
            rollBack(errors: errors, now: now, wallNow: wallNow, byStart: false, into: &actions)
        case .rolledBackLive:
            guard state == .rollingBack else { break }
            state = .rolledBack
            finishAttempt(into: &actions)
        case .uplinkConnected:
            uplinkConnected = true
            startHold(now: now)
            // Published again after every reconnect, so the cloud learns what happened while cut off.
            actions.append(.publishReport(report))
        case .uplinkLost:
            uplinkConnected = false
            holdingSince = nil
        case .healthPassed:
            healthy = true
            startHold(now: now)
        case .healthFailed:
            healthy = false
            holdingSince = nil
        case .tick:
            break
        }
        evaluate(now: now, wallNow: wallNow, into: &actions)
        return actions
    }

    /// Starts the hold if the uplink and the health checks both hold now and it was not running.
    private mutating func startHold(now: UInt64) {
        if state == .pendingConfirmation, uplinkConnected, healthy, holdingSince == nil { holdingSince = now }
    }

    /// Whether a document of `version` is to be tried or rejected now; otherwise it is ignored
    /// (already handled) or deferred (another attempt is under way).
    private mutating func shouldConsider(_ version: UInt64, into actions: inout [Action]) -> Bool {
        record.desiredSeen = max(record.desiredSeen, version)
        // The retained desired document comes again after every reconnect: it is not a new attempt.
        if version == record.highestVersion || version == candidate?.version { return false }
        if state.isAtRest { return true }
        if version > record.highestVersion {
            deferred = max(deferred ?? 0, version)
            actions.append(
                .log(level: .info, message: "remote configuration version \(version) waits for the current attempt"))
        }
        return false
    }

    /// A document passed the checks: stage it, unless it is not newer than every version tried.
    private mutating func accept(_ candidate: Candidate, wallNow: Int64, into actions: inout [Action]) {
        guard shouldConsider(candidate.version, into: &actions) else { return }
        guard candidate.version > record.highestVersion else {
            let message = "version \(candidate.version) is not newer than version \(record.highestVersion)"
            reject(
                version: candidate.version, errors: [ReportedError(path: "version", message: message)],
                sections: candidate.sections, wallNow: wallNow, into: &actions)
            return
        }
        self.candidate = candidate
        receivedAt = wallNow
        state = .staged
        actions.append(.writeStaged(candidate))
    }

    /// The staged configuration is on disk: set the provisional marker (one record write, which also
    /// raises the version floor) and apply.
    private mutating func staged(version: UInt64, now: UInt64, wallNow: Int64, into actions: inout [Action]) {
        guard state == .staged, let candidate, candidate.version == version else { return }
        record.highestVersion = max(record.highestVersion, version)
        record.provisional = candidate
        record.remainingNanoseconds = policy.confirmWithinNanoseconds
        record.provisionalStarts = []
        record.lastAttempt = Attempt(
            version: version, result: .pendingConfirmation, sections: candidate.sections, errors: [],
            startedAt: receivedAt, finishedAt: nil)
        record.updatedAt = wallNow
        state = .applying
        deadline = ConfirmationPolicy.deadline(now, plus: policy.confirmWithinNanoseconds)
        lastCheckpoint = now
        holdingSince = nil
        actions.append(.persist(record, reason: .provisionalMarkerSet))
        actions.append(.publishReport(report))
        let how = candidate.needsRestart ? "by a restart of the daemon" : "live"
        actions.append(
            .log(level: .notice, message: "applying remote configuration version \(version) \(how), provisionally"))
        actions.append(candidate.needsRestart ? .restartDaemon : .applyLive(candidate))
    }

    /// Refuses a document that is not authentic (or not for this gateway, or not valid now): it is
    /// reported when nothing else is under way, and changes neither the version floor nor the highest
    /// desired version seen, so it can never block a real document.
    private mutating func refuseUnauthentic(
        version: UInt64, errors: [ReportedError], wallNow: Int64, into actions: inout [Action]
    ) {
        let first = errors.first.map { ": \($0.path.isEmpty ? "" : "\($0.path): ")\($0.message)" } ?? ""
        actions.append(.log(level: .warning, message: "remote configuration document refused\(first)"))
        guard state.isAtRest else { return }
        record.lastAttempt = Attempt(
            version: version, result: .rejected, sections: [], errors: Array(errors.prefix(Self.maxErrors)),
            startedAt: wallNow, finishedAt: wallNow)
        record.updatedAt = wallNow
        state = .rejected
        actions.append(.persist(record, reason: .rejected))
        actions.append(.publishReport(report))
    }

    /// Rejects `version`: the floor rises, nothing else changes.
    private mutating func reject(
        version: UInt64, errors: [ReportedError], sections: [String], wallNow: Int64, into actions: inout [Action]
    ) {
        record.highestVersion = max(record.highestVersion, version)
        record.lastAttempt = Attempt(
            version: version, result: .rejected, sections: sections, errors: Array(errors.prefix(Self.maxErrors)),
            startedAt: wallNow, finishedAt: wallNow)
        record.updatedAt = wallNow
        let wasStaging = state == .staged
        state = .rejected
        actions.append(.persist(record, reason: .rejected))
        if wasStaging { actions.append(.removeStaged(keeping: [record.lastKnownGood])) }
        actions.append(.publishReport(report))
        let first = errors.first.map { ": \($0.path.isEmpty ? "" : "\($0.path): ")\($0.message)" } ?? ""
        actions.append(.log(level: .warning, message: "remote configuration version \(version) rejected\(first)"))
        finishAttempt(into: &actions)
    }
}
