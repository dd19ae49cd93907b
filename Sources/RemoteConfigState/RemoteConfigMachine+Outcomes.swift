extension RemoteConfigMachine {
    /// Confirms, rolls back or checkpoints a provisional configuration as its time requires.
    mutating func evaluate(now: UInt64, wallNow: Int64, into actions: inout [Action]) {
        guard state == .applying || state == .pendingConfirmation, let deadline else { return }
        if state == .pendingConfirmation, let holdingSince,
            now >= ConfirmationPolicy.deadline(holdingSince, plus: policy.confirmAfterNanoseconds)
        {
            confirm(wallNow: wallNow, into: &actions)
        } else if now >= deadline {
            rollBack(errors: [expiryError()], now: now, wallNow: wallNow, byStart: false, into: &actions)
        } else if now >= ConfirmationPolicy.deadline(lastCheckpoint, plus: policy.checkpointNanoseconds) {
            record.remainingNanoseconds = deadline - now
            record.updatedAt = wallNow
            lastCheckpoint = now
            actions.append(.persist(record, reason: .checkpoint))
        }
    }

    /// Why the countdown ran out.
    private func expiryError() -> ReportedError {
        let within = ConfirmationPolicy.describe(policy.confirmWithin)
        let hold = ConfirmationPolicy.describe(policy.confirmAfter)
        let why: String
        if state == .applying {
            why = "the live apply did not complete"
        } else if !uplinkConnected {
            why = "the uplink was not connected"
        } else if !healthy {
            why = "the health checks were failing"
        } else {
            why = "the uplink and the health checks did not hold for \(hold)"
        }
        return ReportedError(path: "", message: "not confirmed within \(within): \(why)")
    }

    /// The provisional version held: it becomes the last-known-good in one record write.
    private mutating func confirm(wallNow: Int64, into actions: inout [Action]) {
        guard let candidate else { return }
        record.lastKnownGood = candidate.version
        record.provisional = nil
        record.remainingNanoseconds = 0
        record.provisionalStarts = []
        record.lastAttempt?.result = .applied
        record.lastAttempt?.finishedAt = wallNow
        record.updatedAt = wallNow
        state = .confirmed
        actions.append(.persist(record, reason: .promoted))
        actions.append(.removeStaged(keeping: [candidate.version]))
        actions.append(.publishReport(report))
        actions.append(
            .log(level: .notice, message: "remote configuration version \(candidate.version) confirmed"))
        finishAttempt(into: &actions)
    }

    /// Clears the provisional marker (the last-known-good is untouched) and restores the last-known-good:
    /// at start (`byStart`), live, or by a restart when the candidate needed one.
    mutating func rollBack(
        errors: [ReportedError], now: UInt64, wallNow: Int64, byStart: Bool, into actions: inout [Action]
    ) {
        guard let candidate else { return }
        record.provisional = nil
        record.remainingNanoseconds = 0
        record.provisionalStarts = []
        record.lastAttempt = Attempt(
            version: candidate.version, result: .rolledBack, sections: candidate.sections,
            errors: Array(errors.prefix(Self.maxErrors)), startedAt: receivedAt, finishedAt: wallNow)
        record.updatedAt = wallNow
        let target = record.lastKnownGood
        actions.append(.persist(record, reason: .rolledBack))
        let reason = errors.first.map { ": \($0.message)" } ?? ""
        actions.append(
            .log(
                level: .warning,
                message: "remote configuration version \(candidate.version) rolled back to version \(target)\(reason)"))
        if byStart {
            state = .rolledBack
            actions.append(.start(.lastKnownGood(version: target)))
            actions.append(.publishReport(report))
            finishAttempt(into: &actions)
        } else if candidate.needsRestart {
            // The restart-only sections run: only a restart restores them; `resume` finishes the job.
            state = .rollingBack
            actions.append(.rollBack(toVersion: target, byRestart: true))
        } else {
            state = .rollingBack
            actions.append(.rollBack(toVersion: target, byRestart: false))
        }
    }

    /// The attempt is over: forget it, and hand back a document that waited for it.
    mutating func finishAttempt(into actions: inout [Action]) {
        if state == .rolledBack { actions.append(.removeStaged(keeping: [record.lastKnownGood])) }
        candidate = nil
        deadline = nil
        holdingSince = nil
        if let deferred {
            self.deferred = nil
            if deferred > record.highestVersion { actions.append(.reconsiderDesired(version: deferred)) }
        }
    }
}
