import Testing
import WharfCore

@testable import WharfPlugins

@Suite struct PluginSupervisorHealthTests {
    @Test func aHungPluginIsTerminatedKilledAndRespawnedOnlyAfterItExited() {
        let policy = PluginSupervisionPolicy(backoff: BackoffPolicy(base: .seconds(1), cap: .seconds(1)))
        var supervisor = PluginSupervisor.make(policy)
        supervisor.bringUp(at: 0)

        #expect(supervisor.tick(now: 10 * second) == [.sendHealthPing])
        // The next ping is due before the health timeout.
        #expect(supervisor.nextDeadline == 20 * second)
        #expect(supervisor.tick(now: 20 * second) == [.sendHealthPing])
        #expect(supervisor.tick(now: 30 * second) == [.sendHealthPing])
        // The timeout counts from the first unanswered ping.
        #expect(supervisor.nextDeadline == 40 * second)
        #expect(supervisor.tick(now: 40 * second - 1).isEmpty)

        let hang = supervisor.tick(now: 40 * second)
        #expect(hang.signals == [.terminate])
        #expect(hang.spawns == 0)
        #expect(hang.reports == [.init(state: .backingOff, health: .failed, detail: "did not answer within 30s")])
        #expect(hang.logs.first?.hasPrefix("plugin 'line1' did not answer within 30s; restarting in ") == true)
        #expect(supervisor.state == .backingOff)

        // The backoff (at most 1 s) is over, the process is not gone: wait, do not spawn.
        #expect(supervisor.tick(now: 42 * second).isEmpty)
        #expect(supervisor.nextDeadline == 45 * second)
        supervisor.lineReceived(now: 44 * second)  // too late to save it
        let kill = supervisor.tick(now: 45 * second)
        #expect(kill.signals == [.kill])
        #expect(kill.spawns == 0)
        #expect(supervisor.nextDeadline == nil)

        let exit = supervisor.exited(now: 46 * second, description: "killed by signal 9")
        #expect(exit == [.spawn, .report(state: .starting, health: nil, detail: nil)])
        #expect(supervisor.restarts == 1)
    }

    @Test func aHungPluginThatExitsOnSigtermIsNotKilled() {
        var supervisor = PluginSupervisor.make()
        supervisor.bringUp(at: 0)
        for time in stride(from: 10, through: 40, by: 10) { _ = supervisor.tick(now: UInt64(time) * second) }
        #expect(supervisor.state == .backingOff)
        _ = supervisor.exited(now: 41 * second, description: "killed by signal 15")
        // Only the backoff is left to wait for; no SIGKILL to a process that is gone.
        let deadline = supervisor.nextDeadline ?? 0
        #expect(deadline <= 41 * second)
        #expect(supervisor.tick(now: 50 * second).signals.isEmpty)
        #expect(supervisor.state == .starting)
    }

    @Test func anyLineKeepsThePluginAlive() {
        var supervisor = PluginSupervisor.make()
        supervisor.bringUp(at: 0)
        var pings = 0
        // A plugin that never answers pings but writes a line (a publish, a log) every 25 s.
        var now: UInt64 = 0
        while now < 1_000 * second {
            now += second
            if now % (25 * second) == 0 { supervisor.lineReceived(now: now) }
            if let deadline = supervisor.nextDeadline, deadline <= now {
                let actions = supervisor.tick(now: now)
                pings += actions.filter { $0 == .sendHealthPing }.count
                #expect(actions.signals.isEmpty)
            }
        }
        #expect(supervisor.state == .running)
        #expect(pings == 100)
    }

    @Test func pluginHealthPassesThroughAndAFailedReportIsNoCrash() {
        var supervisor = PluginSupervisor.make()
        supervisor.bringUp(at: 0)
        let degraded = supervisor.healthReported(now: second, status: .degraded, message: "2 of 3 servers")
        #expect(degraded.reports == [.init(state: .running, health: .degraded, detail: "2 of 3 servers")])
        #expect(degraded.logs == ["plugin 'line1' reports degraded health: 2 of 3 servers"])
        // The same again: no report, no log.
        #expect(supervisor.healthReported(now: 2 * second, status: .degraded, message: "2 of 3 servers").isEmpty)
        // A new message alone is a change.
        let message = supervisor.healthReported(now: 3 * second, status: .degraded, message: "1 of 3 servers")
        #expect(message == [.report(state: .running, health: .degraded, detail: "1 of 3 servers")])

        let failed = supervisor.healthReported(now: 4 * second, status: .failed, message: nil)
        #expect(failed.reports == [.init(state: .running, health: .failed, detail: nil)])
        #expect(failed.signals.isEmpty && failed.spawns == 0)
        #expect(supervisor.state == .running)
        // A health answer is a line: it answers the ping.
        _ = supervisor.tick(now: 10 * second)
        _ = supervisor.healthReported(now: 11 * second, status: .healthy, message: nil)
        #expect(supervisor.unansweredPingSince == nil)
    }

    @Test func creditViolationsBeyondTheLimitWithinTheWindowRestart() {
        let policy = PluginSupervisionPolicy(restartWindow: .seconds(60), maxCreditViolations: 3)
        var supervisor = PluginSupervisor.make(policy)
        supervisor.bringUp(at: 0)
        // Spread out: never more than 3 within 60 s.
        for index in 0..<10 {
            #expect(supervisor.creditViolation(now: UInt64(index) * 21 * second).isEmpty)
        }
        #expect(supervisor.state == .running)

        let base = 300 * second
        for index in 0..<3 { #expect(supervisor.creditViolation(now: base + UInt64(index) * second).isEmpty) }
        let actions = supervisor.creditViolation(now: base + 3 * second)
        #expect(actions.signals == [.terminate])
        let reason = "exceeded its credit 4 times within 1m"
        #expect(actions.reports == [.init(state: .backingOff, health: .failed, detail: reason)])
        #expect(actions.logs.first?.hasPrefix("plugin 'line1' \(reason); restarting in ") == true)
        // A new process starts with a clean slate.
        _ = supervisor.tick(now: base + 10 * second)
        _ = supervisor.exited(now: base + 11 * second, description: "killed by signal 15")
        supervisor.bringUp(at: base + 12 * second)
        #expect(supervisor.state == .running)
        for index in 0..<3 { #expect(supervisor.creditViolation(now: base + (13 + UInt64(index)) * second).isEmpty) }
    }
}
