extension RemoteConfigMachine {
    /// The daemon starts: the machine as the record left it, and the configuration to start with.
    /// A provisional configuration continues its countdown and its start is counted; one that
    /// started too often within the window, or whose time ran out, is rolled back here.
    /// Pass `nil` when there is no record yet.
    public static func resume(
        record stored: RemoteConfigRecord?, policy: ConfirmationPolicy, now: UInt64, wallNow: Int64
    ) -> (machine: RemoteConfigMachine, actions: [Action]) {
        let record = stored ?? .initial
        var machine = RemoteConfigMachine(policy: policy, state: restingState(record), record: record)
        var actions: [Action] = []
        guard let candidate = record.provisional else {
            actions.append(.start(.lastKnownGood(version: record.lastKnownGood)))
            actions.append(.removeStaged(keeping: [record.lastKnownGood]))
            return (machine, actions)
        }
        machine.candidate = candidate
        machine.receivedAt = record.lastAttempt?.startedAt ?? wallNow
        // Starts are counted in wall-clock time, which survives the reboot; a start recorded "in the
        // future" means the clock went back, and it still counts, so a skewed clock errs towards rollback.
        let window = policy.startWindowSeconds
        var starts = record.provisionalStarts.filter { $0 > wallNow || wallNow - $0 < window }
        starts.append(wallNow)
        if starts.count > policy.startLimit {
            let message =
                "the daemon started \(starts.count) times with version \(candidate.version) within "
                + ConfirmationPolicy.describe(policy.startWindow)
            machine.rollBack(
                errors: [ReportedError(path: "", message: message)], now: now, wallNow: wallNow, byStart: true,
                into: &actions)
            return (machine, actions)
        }
        if record.remainingNanoseconds == 0 {
            let message =
                "not confirmed within \(ConfirmationPolicy.describe(policy.confirmWithin)) of running"
            machine.rollBack(
                errors: [ReportedError(path: "", message: message)], now: now, wallNow: wallNow, byStart: true,
                into: &actions)
            return (machine, actions)
        }
        machine.record.provisionalStarts = starts
        machine.record.updatedAt = wallNow
        machine.state = .pendingConfirmation
        machine.deadline = ConfirmationPolicy.deadline(now, plus: record.remainingNanoseconds)
        machine.lastCheckpoint = now
        let left = Duration.nanoseconds(Int64(min(record.remainingNanoseconds, UInt64(Int64.max))))
        actions.append(.persist(machine.record, reason: .startCounted))
        actions.append(.start(.provisional(candidate)))
        actions.append(.removeStaged(keeping: [record.lastKnownGood, candidate.version]))
        actions.append(
            .log(
                level: .notice,
                message: "remote configuration version \(candidate.version) is provisional: "
                    + "start \(starts.count) of \(policy.startLimit), \(ConfirmationPolicy.describe(left)) left to confirm"
            ))
        return (machine, actions)
    }

    /// The resting state a record without a provisional marker describes.
    static func restingState(_ record: RemoteConfigRecord) -> State {
        switch record.lastAttempt?.result {
        case .applied: return .confirmed
        case .rejected: return .rejected
        case .rolledBack: return .rolledBack
        case .pendingConfirmation, nil: return .idle
        }
    }
}
