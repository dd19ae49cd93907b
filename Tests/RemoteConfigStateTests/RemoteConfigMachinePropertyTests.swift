import PropertyBased
import Synchronization
import Testing

@testable import RemoteConfigState

/// Drives a machine with arbitrary events, crashes included (the machine is dropped and resumed from the
/// last record persisted, on a fresh monotonic clock), and checks the promises after every step.
private struct RandomDriver {
    var machine: Machine
    var disk: RemoteConfigRecord
    var now: UInt64 = 0
    var wall: Int64 = 1_000
    var connected = false
    var healthy = false
    /// Since when the uplink and the health checks have both held in this process.
    var goodSince: UInt64?
    /// Versions whose attempt ended.
    var ended: Set<UInt64> = []
    var step = 0

    init() {
        disk = RemoteConfigRecord(lastKnownGood: 5, highestVersion: 5, desiredSeen: 5)
        machine = Machine.resume(record: disk, policy: testPolicy, now: 0, wallNow: wall).machine
    }

    mutating func apply(kind: Int, parameter: Int) {
        step += 1
        let version = UInt64(parameter % 12)
        let candidateVersion = machine.candidate?.version ?? version
        var actions: [Action]
        switch kind {
        case 0:
            actions = send(
                .documentAccepted(Candidate(version: version, sections: ["s"], needsRestart: parameter % 3 == 0)))
        case 1: actions = send(.documentRejected(version: version, errors: [ReportedError(path: "p", message: "m")]))
        case 2: actions = send(.stagedWritten(version: candidateVersion))
        case 3: actions = send(.stageFailed(version: candidateVersion, message: "disk full"))
        case 4: actions = send(.appliedLive(version: candidateVersion))
        case 5: actions = send(.applyFailed(version: candidateVersion, errors: []))
        case 6: actions = send(.rolledBackLive)
        case 7:
            connected = parameter % 2 == 0
            actions = send(connected ? .uplinkConnected : .uplinkLost)
        case 8:
            healthy = parameter % 3 != 0
            actions = send(healthy ? .healthPassed : .healthFailed)
        case 9:
            now += UInt64(parameter) * 100_000_000
            wall += Int64(parameter / 10)
            actions = send(.tick)
        case 10:
            if let deadline = machine.nextDeadline { now = max(now, deadline) }
            actions = send(.tick)
        default:
            // A crash: only the disk survives; the new process's clock starts again.
            now = UInt64(parameter)
            wall += 3
            connected = false
            healthy = false
            let resumed = Machine.resume(record: disk, policy: testPolicy, now: now, wallNow: wall)
            machine = resumed.machine
            actions = resumed.actions
        }
        if connected && healthy {
            if goodSince == nil { goodSince = now }
        } else {
            goodSince = nil
        }
        check(actions, kind: kind)
    }

    mutating func send(_ event: Machine.Event) -> [Action] {
        if connected && healthy && goodSince == nil { goodSince = now }
        return machine.handle(event, now: now, wallNow: wall)
    }

    mutating func check(_ actions: [Action], kind: Int) {
        let context = "step \(step), event \(kind), state \(machine.state): \(actions)"
        for action in actions {
            switch action {
            case .persist(let record, let reason):
                #expect(record.highestVersion >= disk.highestVersion, "\(context)")
                if record.lastKnownGood != disk.lastKnownGood {
                    #expect(reason == .promoted, "\(context)")
                    #expect(
                        disk.provisional?.version == record.lastKnownGood, "promoted an unconfirmed version: \(context)"
                    )
                    let held = goodSince.map { now - $0 >= 20 * second } ?? false
                    #expect(held, "promoted without the hold: \(context)")
                }
                if let attempt = record.lastAttempt, attempt.result != .pendingConfirmation {
                    ended.insert(attempt.version)
                }
                disk = record
            case .writeStaged(let candidate):
                #expect(candidate.version > disk.highestVersion, "staged a version not newer: \(context)")
                #expect(!ended.contains(candidate.version), "\(context)")
            case .applyLive(let candidate):
                #expect(disk.provisional == candidate, "\(context)")
            case .restartDaemon:
                #expect(disk.provisional != nil, "\(context)")
            case .start(.provisional(let candidate)):
                #expect(disk.provisional == candidate && !ended.contains(candidate.version), "\(context)")
            case .start(.lastKnownGood(let version)), .rollBack(let version, _):
                #expect(
                    version == disk.lastKnownGood && disk.provisional == nil,
                    "rolled back to an unconfirmed version: \(context)")
            case .removeStaged(let keeping):
                #expect(keeping.contains(disk.lastKnownGood), "\(context)")
            case .publishReport(let report):
                #expect(report == machine.report, "\(context)")
            case .reconsiderDesired, .log:
                break
            }
        }
        // Whatever the machine keeps in memory, the record it would persist never promotes on its own.
        #expect(machine.record.lastKnownGood == disk.lastKnownGood, "\(context)")
        if machine.state == .applying || machine.state == .pendingConfirmation {
            #expect(disk.provisional != nil && machine.nextDeadline != nil, "\(context)")
        } else {
            #expect(machine.nextDeadline == nil, "\(context)")
        }
    }
}

@Suite struct RemoteConfigMachinePropertyTests {
    @Test func randomEventSequencesKeepTheLifecyclesPromises() async {
        let events = zip(Gen.int(in: 0...11), Gen.int(in: 0...1_000)).array(of: 1...200)
        let visited = Mutex<Set<Machine.State>>([])
        await propertyCheck(count: 800, input: events) { events in
            var driver = RandomDriver()
            for (kind, parameter) in events {
                driver.apply(kind: kind, parameter: parameter)
                visited.withLock { _ = $0.insert(driver.machine.state) }
            }
        }
        // The sequences reach every state, so the checks above were not vacuous.
        #expect(visited.withLock { $0 } == Set(Machine.State.allCases))
    }
}
