import Testing

@testable import RemoteConfigState

/// A machine whose last-known-good is version 5, at rest.
private func restingMachine() -> Machine {
    let record = RemoteConfigRecord(lastKnownGood: 5, highestVersion: 5, desiredSeen: 5)
    return Machine.resume(record: record, policy: testPolicy, now: 0, wallNow: 1_000).machine
}

private let adapters6 = Candidate(version: 6, sections: ["adapters"], needsRestart: false)
private let uplink6 = Candidate(version: 6, sections: ["uplink"], needsRestart: true)

extension Array where Element == Action {
    /// The records persisted, with their reasons.
    var persisted: [(RemoteConfigRecord, Machine.PersistReason)] {
        compactMap {
            if case .persist(let record, let reason) = $0 { return (record, reason) }
            return nil
        }
    }

    /// The reports published.
    var reports: [RemoteConfigReport] {
        compactMap {
            if case .publishReport(let report) = $0 { return report }
            return nil
        }
    }
}

/// Accepts, stages and applies `candidate` live at `now`.
private func applyLive(_ machine: inout Machine, _ candidate: Candidate, at now: UInt64) {
    #expect(machine.handle(.documentAccepted(candidate), now: now, wallNow: 1_000) == [.writeStaged(candidate)])
    let actions = machine.handle(.stagedWritten(version: candidate.version), now: now, wallNow: 1_000)
    #expect(actions.persisted.map(\.1) == [.provisionalMarkerSet])
    #expect(actions.persisted.first?.0.provisional == candidate)
    #expect(actions.persisted.first?.0.lastKnownGood == 5)
    #expect(actions.last == .applyLive(candidate))
    #expect(machine.state == .applying)
    _ = machine.handle(.appliedLive(version: candidate.version), now: now, wallNow: 1_000)
    #expect(machine.state == .pendingConfirmation)
}

@Suite struct RemoteConfigMachineLifecycleTests {
    @Test func aLiveChangeIsConfirmedAfterTheHold() {
        var machine = restingMachine()
        applyLive(&machine, adapters6, at: 0)
        _ = machine.handle(.healthPassed, now: 1 * second, wallNow: 1_001)
        let connected = machine.handle(.uplinkConnected, now: 3 * second, wallNow: 1_003)
        #expect(connected.reports.first?.lastAttempt?.result == .pendingConfirmation)
        #expect(machine.nextDeadline == 10 * second)
        let checkpoint = machine.handle(.tick, now: 10 * second, wallNow: 1_010).persisted
        #expect(checkpoint.map(\.1) == [.checkpoint] && checkpoint.first?.0.remainingNanoseconds == 110 * second)
        _ = machine.handle(.tick, now: 20 * second, wallNow: 1_020)
        #expect(machine.nextDeadline == 3 * second + 20 * second)
        // One nanosecond before the hold completes nothing is promoted.
        let early = machine.handle(.tick, now: 23 * second - 1, wallNow: 1_022)
        #expect(!early.persisted.contains { $0.1 == .promoted })
        #expect(machine.state == .pendingConfirmation)
        let actions = machine.handle(.tick, now: 23 * second, wallNow: 1_023)
        #expect(machine.state == .confirmed)
        let promoted = actions.persisted.filter { $0.1 == .promoted }.map(\.0)
        #expect(promoted.count == 1)
        #expect(promoted.first?.lastKnownGood == 6 && promoted.first?.provisional == nil)
        #expect(actions.reports.last?.lastAttempt?.result == .applied)
        #expect(actions.reports.last?.lastAttempt?.finishedAt == 1_023)
        #expect(actions.contains(.removeStaged(keeping: [6])))
        #expect(machine.nextDeadline == nil)
    }

    @Test func withoutTheUplinkTheCountdownRollsBack() {
        var machine = restingMachine()
        applyLive(&machine, adapters6, at: 0)
        _ = machine.handle(.healthPassed, now: 1 * second, wallNow: 1_001)
        var actions: [Action] = []
        var now: UInt64 = 0
        while let deadline = machine.nextDeadline, machine.state == .pendingConfirmation {
            #expect(deadline > now)
            now = deadline
            actions = machine.handle(.tick, now: now, wallNow: 1_000 + Int64(now / second))
        }
        #expect(now == 120 * second)
        #expect(machine.state == .rollingBack)
        #expect(actions.persisted.last?.1 == .rolledBack)
        #expect(actions.persisted.last?.0.lastKnownGood == 5)
        #expect(actions.persisted.last?.0.provisional == nil)
        #expect(actions.last == .rollBack(toVersion: 5, byRestart: false))
        let error = actions.persisted.last?.0.lastAttempt?.errors.first?.message ?? ""
        #expect(error.contains("uplink was not connected"))
        let done = machine.handle(.rolledBackLive, now: now, wallNow: 1_120)
        #expect(machine.state == .rolledBack)
        #expect(done.contains(.removeStaged(keeping: [5])))
        // After the uplink returns, the report says rolled-back.
        let reconnect = machine.handle(.uplinkConnected, now: now + second, wallNow: 1_121)
        #expect(reconnect.reports.first?.lastAttempt?.result == .rolledBack)
        #expect(reconnect.reports.first?.runningVersion == 5)
    }

    @Test func anUplinkWithFailingHealthChecksRollsBack() {
        var machine = restingMachine()
        applyLive(&machine, adapters6, at: 0)
        _ = machine.handle(.uplinkConnected, now: 1 * second, wallNow: 1_001)
        _ = machine.handle(.healthFailed, now: 1 * second, wallNow: 1_001)
        var now: UInt64 = 0
        var last: [Action] = []
        while let deadline = machine.nextDeadline {
            now = deadline
            last = machine.handle(.tick, now: now, wallNow: 1_000 + Int64(now / second))
        }
        #expect(machine.state == .rollingBack && now == 120 * second)
        let message = last.persisted.last?.0.lastAttempt?.errors.first?.message ?? ""
        #expect(message.contains("health checks were failing"))
    }

    @Test func aFlappingUplinkRestartsTheHold() {
        var machine = restingMachine()
        applyLive(&machine, adapters6, at: 0)
        _ = machine.handle(.healthPassed, now: 0, wallNow: 1_000)
        // Up for 15 s of the 20 s hold, down, up again: the hold starts over.
        _ = machine.handle(.uplinkConnected, now: 10 * second, wallNow: 1_010)
        _ = machine.handle(.uplinkLost, now: 25 * second, wallNow: 1_025)
        _ = machine.handle(.uplinkConnected, now: 26 * second, wallNow: 1_026)
        _ = machine.handle(.tick, now: 45 * second, wallNow: 1_045)
        #expect(machine.state == .pendingConfirmation)
        _ = machine.handle(.healthFailed, now: 45 * second, wallNow: 1_045)
        _ = machine.handle(.healthPassed, now: 46 * second, wallNow: 1_046)
        _ = machine.handle(.tick, now: 65 * second, wallNow: 1_065)
        #expect(machine.state == .pendingConfirmation)
        _ = machine.handle(.tick, now: 66 * second, wallNow: 1_066)
        #expect(machine.state == .confirmed)
        #expect(machine.record.lastKnownGood == 6)
    }

    @Test func theHoldMustCompleteBeforeTheCountdownEnds() {
        var machine = restingMachine()
        applyLive(&machine, adapters6, at: 0)
        _ = machine.handle(.healthPassed, now: 0, wallNow: 1_000)
        _ = machine.handle(.uplinkConnected, now: 110 * second, wallNow: 1_110)
        _ = machine.handle(.tick, now: 120 * second, wallNow: 1_120)
        #expect(machine.state == .rollingBack)
        #expect(machine.record.lastKnownGood == 5)
    }

    @Test func aChangeThatNeedsARestartContinuesAfterIt() throws {
        var machine = restingMachine()
        _ = machine.handle(.documentAccepted(uplink6), now: 0, wallNow: 1_000)
        let actions = machine.handle(.stagedWritten(version: 6), now: 5 * second, wallNow: 1_005)
        #expect(actions.last == .restartDaemon)
        let marker = try #require(actions.persisted.first?.0)
        // The new process: a fresh monotonic clock.
        let (resumed, start) = Machine.resume(record: marker, policy: testPolicy, now: 7, wallNow: 1_008)
        var machine2 = resumed
        #expect(start.contains(.start(.provisional(uplink6))))
        #expect(start.persisted.map(\.1) == [.startCounted])
        #expect(start.persisted.first?.0.provisionalStarts == [1_008])
        #expect(machine2.state == .pendingConfirmation)
        _ = machine2.handle(.healthPassed, now: second, wallNow: 1_009)
        _ = machine2.handle(.uplinkConnected, now: second, wallNow: 1_009)
        _ = machine2.handle(.tick, now: 21 * second, wallNow: 1_029)
        #expect(machine2.state == .confirmed)
        #expect(machine2.record.lastKnownGood == 6)
    }

    @Test func aFailedRestartChangeRollsBackByRestart() {
        var machine = restingMachine()
        _ = machine.handle(.documentAccepted(uplink6), now: 0, wallNow: 1_000)
        let marker = machine.handle(.stagedWritten(version: 6), now: 0, wallNow: 1_000).persisted[0].0
        var resumed = Machine.resume(record: marker, policy: testPolicy, now: 0, wallNow: 1_002).machine
        let actions = resumed.handle(
            .applyFailed(version: 6, errors: [ReportedError(path: "broker.listeners[0]", message: "address in use")]),
            now: second, wallNow: 1_003)
        #expect(actions.last == .rollBack(toVersion: 5, byRestart: true))
        let record = actions.persisted.last?.0
        #expect(record?.provisional == nil && record?.lastAttempt?.result == .rolledBack)
        #expect(record?.lastAttempt?.errors.first?.path == "broker.listeners[0]")
        let after = Machine.resume(record: record, policy: testPolicy, now: 0, wallNow: 1_005)
        #expect(after.actions.first == .start(.lastKnownGood(version: 5)))
        #expect(after.machine.state == .rolledBack)
    }

    @Test func startingTooOftenWithAProvisionalConfigRollsBack() throws {
        var machine = restingMachine()
        _ = machine.handle(.documentAccepted(uplink6), now: 0, wallNow: 1_000)
        var record = machine.handle(.stagedWritten(version: 6), now: 0, wallNow: 1_000).persisted[0].0
        // Three starts within the window are tolerated; the fourth rolls back.
        for start in 1...3 {
            let (resumed, actions) = Machine.resume(
                record: record, policy: testPolicy, now: 0, wallNow: 1_000 + Int64(start) * 30)
            #expect(resumed.state == .pendingConfirmation)
            record = try #require(actions.persisted.first?.0)
            #expect(record.provisionalStarts.count == start)
        }
        let (last, actions) = Machine.resume(record: record, policy: testPolicy, now: 0, wallNow: 1_120)
        #expect(last.state == .rolledBack)
        #expect(actions.first.map { if case .persist(_, .rolledBack) = $0 { true } else { false } } == true)
        #expect(actions.contains(.start(.lastKnownGood(version: 5))))
        #expect(!actions.contains(.start(.provisional(uplink6))))
        #expect(last.record.lastAttempt?.errors.first?.message.contains("started 4 times") == true)
    }

    @Test func startsOutsideTheWindowAreForgottenButAClockGoingBackCounts() throws {
        var record = RemoteConfigRecord(
            lastKnownGood: 5, highestVersion: 6, provisional: uplink6, remainingNanoseconds: 60 * second,
            provisionalStarts: [100, 200, 300])
        // 600 s after the last three starts, they have left the window.
        var resumed = Machine.resume(record: record, policy: testPolicy, now: 0, wallNow: 900)
        #expect(resumed.machine.state == .pendingConfirmation)
        #expect(resumed.machine.record.provisionalStarts == [900])
        // A clock that went back (no RTC, before NTP) puts the earlier starts in the future: they count.
        record.provisionalStarts = [5_000, 5_010, 5_020]
        resumed = Machine.resume(record: record, policy: testPolicy, now: 0, wallNow: 60)
        #expect(resumed.machine.state == .rolledBack)
    }

    @Test func theCountdownContinuesFromTheLastCheckpointAfterACrash() throws {
        var machine = restingMachine()
        applyLive(&machine, adapters6, at: 0)
        var last: RemoteConfigRecord?
        var now: UInt64 = 0
        while now < 45 * second, let deadline = machine.nextDeadline {
            now = deadline
            last = machine.handle(.tick, now: now, wallNow: 1_000).persisted.last?.0 ?? last
        }
        let checkpoint = try #require(last)
        #expect(checkpoint.remainingNanoseconds == 120 * second - 50 * second)
        // Reboot: the daemon's new clock starts near zero; 70 s of countdown remain.
        var resumed = Machine.resume(record: checkpoint, policy: testPolicy, now: 3, wallNow: 2_000).machine
        #expect(resumed.nextDeadline == 3 + 10 * second)
        var end: UInt64 = 0
        while let deadline = resumed.nextDeadline {
            end = deadline
            _ = resumed.handle(.tick, now: end, wallNow: 2_000)
        }
        #expect(end == 3 + 70 * second)
        #expect(resumed.state == .rollingBack)
    }

    @Test func theRetainedDocumentAgainIsIgnoredAnOlderOneRejected() {
        var machine = restingMachine()
        #expect(
            machine.handle(
                .documentAccepted(Candidate(version: 5, sections: [], needsRestart: false)), now: 0, wallNow: 1
            ).isEmpty)
        #expect(machine.state == .idle)
        let actions = machine.handle(
            .documentAccepted(Candidate(version: 4, sections: ["adapters"], needsRestart: false)), now: 0, wallNow: 2)
        #expect(machine.state == .rejected)
        #expect(
            actions.persisted.first?.0.lastAttempt?.errors == [
                ReportedError(path: "version", message: "version 4 is not newer than version 5")
            ])
        #expect(actions.persisted.first?.0.highestVersion == 5)
        #expect(!actions.contains { if case .writeStaged = $0 { true } else { false } })
    }

    @Test func aRejectedVersionIsNeverTriedAgain() {
        var machine = restingMachine()
        let errors = [ReportedError(path: "adapters[1].port", message: "must be 1...65535")]
        let rejected = machine.handle(.documentRejected(version: 6, errors: errors), now: 0, wallNow: 1)
        #expect(rejected.persisted.first?.0.highestVersion == 6)
        #expect(rejected.reports.first?.lastAttempt?.errors == errors)
        // The same version fixed but not re-signed with a higher one is not applied.
        let again = machine.handle(.documentAccepted(adapters6), now: 0, wallNow: 2)
        #expect(!again.contains(.writeStaged(adapters6)))
    }

    @Test func aForgedDocumentWithAHugeVersionCannotBlockRealOnes() {
        var machine = restingMachine()
        let forged = [ReportedError(path: "signature", message: "the signature does not match [bad-signature]")]
        let refused = machine.handle(
            .documentRejected(version: 1_000_000, errors: forged, raisesFloor: false), now: 0, wallNow: 1)
        #expect(refused.persisted.first?.0.highestVersion == 5)
        #expect(refused.reports.first?.lastAttempt?.result == .rejected)
        #expect(refused.reports.first?.lastAttempt?.version == 1_000_000)
        #expect(machine.record.desiredSeen == 5)
        #expect(machine.handle(.documentAccepted(adapters6), now: 0, wallNow: 2) == [.writeStaged(adapters6)])
    }

    @Test func aForgedDocumentDuringAnAttemptIsOnlyLogged() {
        var machine = restingMachine()
        applyLive(&machine, adapters6, at: 0)
        let forged = [ReportedError(path: "gateway", message: "for another gateway [wrong-gateway]")]
        let refused = machine.handle(
            .documentRejected(version: 9, errors: forged, raisesFloor: false), now: second, wallNow: 1_001)
        #expect(refused.persisted.isEmpty && refused.reports.isEmpty)
        #expect(machine.state == .pendingConfirmation)
        #expect(machine.record.lastAttempt?.version == 6)
    }

    @Test func aNewerDocumentWaitsForTheAttemptUnderWay() {
        var machine = restingMachine()
        applyLive(&machine, adapters6, at: 0)
        let seven = Candidate(version: 7, sections: ["log"], needsRestart: false)
        let waiting = machine.handle(.documentAccepted(seven), now: second, wallNow: 1_001)
        #expect(!waiting.contains(.writeStaged(seven)))
        #expect(machine.record.desiredSeen == 7)
        _ = machine.handle(.healthPassed, now: second, wallNow: 1_001)
        let done = machine.handle(.uplinkConnected, now: 30 * second, wallNow: 1_030)
        #expect(!done.contains(.reconsiderDesired(version: 7)))
        let confirmed = machine.handle(.tick, now: 50 * second, wallNow: 1_050)
        #expect(machine.state == .confirmed)
        #expect(confirmed.last == .reconsiderDesired(version: 7))
        #expect(machine.handle(.documentAccepted(seven), now: 51 * second, wallNow: 1_051) == [.writeStaged(seven)])
    }
}
