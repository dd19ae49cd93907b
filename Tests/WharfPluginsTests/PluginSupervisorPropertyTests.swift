import PropertyBased
import Synchronization
import Testing
import WharfCore

@testable import WharfPlugins

/// A host that drives a supervisor faithfully (it answers spawns, a process exits only if it runs,
/// only a running process writes lines) and checks the supervisor's promises after every step.
private struct CheckingHost {
    var supervisor: PluginSupervisor
    var now: UInt64 = 0
    /// A `.spawn` not answered yet.
    var spawnPending = false
    /// A process runs.
    var alive = false
    var lastReport: PluginSupervisor.Report?
    var step = 0

    init(seed: UInt64) {
        let policy = PluginSupervisionPolicy(
            backoff: BackoffPolicy(base: .milliseconds(500), cap: .seconds(4), stableAfter: .seconds(10)),
            maxRestarts: 3, restartWindow: .seconds(60), startTimeout: .seconds(5), healthInterval: .seconds(2),
            healthTimeout: .seconds(6), shutdownGrace: .seconds(1), maxCreditViolations: 2)
        supervisor = PluginSupervisor.make(policy, seed: seed)
    }

    /// Applies one random event, `kind` choosing it and `parameter` shaping it.
    mutating func apply(kind: Int, parameter: Int) {
        step += 1
        let before = supervisor.state
        var isRequest = false
        var actions: [Action] = []
        switch kind {
        case 0:
            isRequest = true
            actions = supervisor.start(now: now)
        case 1:
            actions = supervisor.stop(now: now)
        case 2:
            isRequest = true
            actions = supervisor.operatorRestart(now: now)
        case 3 where spawnPending:
            spawnPending = false
            if parameter % 4 == 0 {
                actions = supervisor.spawnFailed(now: now, reason: "No such file or directory")
            } else {
                alive = true
                actions = supervisor.spawned(now: now)
            }
        case 4 where alive:
            alive = false
            actions = supervisor.exited(now: now, description: "exit status \(parameter % 3)")
        case 5 where alive:
            supervisor.lineReceived(now: now)
            actions = supervisor.ready(now: now)
        case 6 where alive:
            supervisor.lineReceived(now: now)
        case 7 where alive:
            let status = [PluginSupervisor.Health.healthy, .degraded, .failed][parameter % 3]
            actions = supervisor.healthReported(now: now, status: status, message: parameter % 2 == 0 ? nil : "m")
        case 8 where alive && parameter % 10 == 0:
            actions = supervisor.versionMismatch(now: now, message: "plugin 'line1' speaks protocol 2")
        case 9 where alive:
            actions = supervisor.creditViolation(now: now)
        case 10:
            // Time passes; a punctual host ticks when the deadline came.
            now += UInt64(parameter) * 10_000_000
            if let deadline = supervisor.nextDeadline, deadline <= now { actions = supervisor.tick(now: now) }
        case 11:
            if let deadline = supervisor.nextDeadline { now = max(now, deadline) }
            actions = supervisor.tick(now: now)
        default:
            actions = supervisor.tick(now: now)
        }
        check(actions, before: before, isRequest: isRequest, kind: kind)
    }

    mutating func check(_ actions: [Action], before: PluginSupervisor.State, isRequest: Bool, kind: Int) {
        let context = "step \(step), event \(kind), \(before) → \(supervisor.state): \(actions)"
        for action in actions {
            switch action {
            case .spawn:
                // Never two processes; a quarantine or a stop holds until asked otherwise.
                #expect(!spawnPending && !alive, "\(context)")
                #expect(isRequest || (before != .quarantined && before != .stopped && before != .idle), "\(context)")
                #expect(!(before == .quarantined && kind == 0), "\(context)")
                #expect(supervisor.state == .starting, "\(context)")
                spawnPending = true
            case .sendInit, .sendShutdown:
                #expect(alive, "\(context)")
            case .sendHealthPing:
                #expect(alive && supervisor.state == .running, "\(context)")
            case .signal:
                #expect(alive, "\(context)")
            case .report(let state, let health, let detail):
                let report = PluginSupervisor.Report(state: state, health: health, detail: detail)
                #expect(report != lastReport, "report without a change: \(context)")
                lastReport = report
            case .log:
                break
            }
        }
        let reports = actions.reports
        if supervisor.state != before {
            #expect(reports.count == 1, "\(context)")
        } else {
            #expect(reports.count <= 1, "\(context)")
        }
        if let last = reports.last {
            #expect(last.state == supervisor.state && last.health == supervisor.health, "\(context)")
        }
        switch supervisor.state {
        case .idle, .stopped:
            #expect(!alive && !spawnPending, "\(context)")
        case .running:
            #expect(alive, "\(context)")
        case .starting, .backingOff, .stopping, .quarantined:
            break
        }
        checkDeadline(context)
    }

    /// `nextDeadline` is the earliest pending deadline: nothing happens before it, something does at
    /// it, and it is `nil` only when the supervisor waits for the host alone.
    func checkDeadline(_ context: String) {
        guard let deadline = supervisor.nextDeadline else {
            var copy = supervisor
            #expect(copy.tick(now: now + 3_600 * second).isEmpty, "nil deadline with work pending: \(context)")
            #expect(copy.state == supervisor.state, "\(context)")
            let waitsForHost = [.idle, .stopped, .quarantined, .stopping].contains(supervisor.state) || spawnPending
            #expect(waitsForHost || (supervisor.state == .backingOff && alive), "\(context)")
            return
        }
        if deadline > now {
            var early = supervisor
            #expect(early.tick(now: deadline - 1).isEmpty, "action before the deadline: \(context)")
            #expect(early.nextDeadline == deadline, "\(context)")
        }
        var due = supervisor
        let actions = due.tick(now: max(now, deadline))
        #expect(!actions.isEmpty || due.nextDeadline != deadline, "a deadline that does nothing: \(context)")
    }
}

@Suite struct PluginSupervisorPropertyTests {
    @Test func randomEventSequencesKeepTheSupervisorsPromises() async {
        let events = zip(Gen.int(in: 0...12), Gen.int(in: 0...1_000)).array(of: 1...150)
        let visited = Mutex<Set<PluginSupervisor.State>>([])
        await propertyCheck(count: 400, input: Gen.int(in: 0...1_000_000), events) { seed, events in
            var host = CheckingHost(seed: UInt64(seed))
            for (kind, parameter) in events {
                host.apply(kind: kind, parameter: parameter)
                visited.withLock { _ = $0.insert(host.supervisor.state) }
            }
        }
        // The sequences reach every state, so the checks above were not vacuous.
        let all: Set<PluginSupervisor.State> = [
            .idle, .starting, .running, .backingOff, .stopping, .quarantined, .stopped,
        ]
        #expect(visited.withLock { $0 } == all)
    }
}
