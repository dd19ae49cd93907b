import Testing
import WharfCore

@testable import WharfPlugins

@Suite struct PluginSupervisorStopTests {
    @Test func stopEscalatesFromShutdownToSigtermToSigkill() {
        var supervisor = PluginSupervisor.make()
        supervisor.bringUp(at: 0)
        let stop = supervisor.stop(now: 100 * second)
        #expect(stop == [.sendShutdown(graceMilliseconds: 5_000), .report(state: .stopping, health: nil, detail: nil)])
        #expect(supervisor.nextDeadline == 105 * second)
        // No health pings or timeouts while stopping.
        #expect(supervisor.tick(now: 105 * second - 1).isEmpty)
        let term = supervisor.tick(now: 105 * second)
        #expect(term.signals == [.terminate])
        #expect(term.logs == ["plugin 'line1' did not exit within 5s; SIGTERM"])
        #expect(supervisor.nextDeadline == 110 * second)
        #expect(supervisor.tick(now: 110 * second).signals == [.kill])
        #expect(supervisor.nextDeadline == nil)
        #expect(
            supervisor.exited(now: 111 * second, description: "killed by signal 9") == [
                .report(state: .stopped, health: nil, detail: nil)
            ])
        #expect(supervisor.tick(now: 1_000 * second).isEmpty)
        #expect(supervisor.restarts == 0)
    }

    @Test func aPluginThatExitsWithinTheGraceIsNotSignalled() {
        var supervisor = PluginSupervisor.make()
        supervisor.bringUp(at: 0)
        _ = supervisor.stop(now: second)
        let exit = supervisor.exited(now: 2 * second, description: "exit status 0")
        #expect(exit == [.report(state: .stopped, health: nil, detail: nil)])
        #expect(supervisor.nextDeadline == nil)
        // Stopped is not quarantined: it can be started again.
        #expect(supervisor.start(now: 3 * second).spawns == 1)
    }

    @Test func stopWhileSpawningTerminatesTheProcessOnceItRuns() {
        var supervisor = PluginSupervisor.make()
        _ = supervisor.start(now: 0)
        #expect(supervisor.stop(now: 0) == [.report(state: .stopping, health: nil, detail: nil)])
        #expect(supervisor.spawned(now: second) == [.signal(.terminate)])
        #expect(
            supervisor.exited(now: 2 * second, description: "killed by signal 15").reports.map(\.state) == [.stopped])
    }

    @Test func stopWhileBackingOffCancelsTheRestart() {
        var supervisor = PluginSupervisor.make()
        supervisor.bringUp(at: 0)
        _ = supervisor.exited(now: second, description: "exit status 1")
        #expect(supervisor.stop(now: second) == [.report(state: .stopped, health: nil, detail: nil)])
        #expect(supervisor.nextDeadline == nil)
        #expect(supervisor.tick(now: 100 * second).isEmpty)
        #expect(supervisor.restarts == 0)
    }

    @Test func stopWhileAHungProcessIsBeingKilledWaitsForItsExit() {
        var supervisor = PluginSupervisor.make()
        supervisor.bringUp(at: 0)
        for time in stride(from: 10, through: 40, by: 10) { _ = supervisor.tick(now: UInt64(time) * second) }
        #expect(supervisor.state == .backingOff)
        let stop = supervisor.stop(now: 41 * second)
        // SIGTERM went out already; the escalation goes on, no shutdown line to a hung plugin.
        #expect(stop == [.report(state: .stopping, health: nil, detail: nil)])
        #expect(supervisor.tick(now: 45 * second).signals == [.kill])
        #expect(supervisor.exited(now: 46 * second, description: "killed by signal 9").spawns == 0)
        #expect(supervisor.state == .stopped)
    }

    @Test func stopWhileQuarantinedStops() {
        var supervisor = PluginSupervisor.make(PluginSupervisionPolicy(maxRestarts: 0))
        _ = supervisor.start(now: 0)
        _ = supervisor.spawnFailed(now: 0, reason: "Permission denied")
        #expect(supervisor.state == .quarantined)
        #expect(supervisor.stop(now: second) == [.report(state: .stopped, health: nil, detail: nil)])
        #expect(supervisor.stop(now: 2 * second).isEmpty)
    }

    @Test func aVersionMismatchQuarantinesAtOnceAndStopsTheProcess() {
        var supervisor = PluginSupervisor.make()
        _ = supervisor.start(now: 0)
        _ = supervisor.spawned(now: 0)
        let message = "plugin 'line1' speaks protocol 2; this wharfd speaks 1 to 1"
        let actions = supervisor.versionMismatch(now: second, message: message)
        #expect(actions.contains(.sendShutdown(graceMilliseconds: 5_000)))
        #expect(actions.reports == [.init(state: .quarantined, health: .failed, detail: message)])
        #expect(actions.logs == ["\(message); quarantined until `wharfctl plugin restart line1` or a reload"])
        #expect(supervisor.tick(now: 6 * second).signals == [.terminate])
        #expect(supervisor.tick(now: 11 * second).signals == [.kill])
        // Its exit is expected: no crash counted, no spawn, no new report.
        #expect(supervisor.exited(now: 12 * second, description: "killed by signal 9").isEmpty)
        #expect(supervisor.nextDeadline == nil)
        #expect(supervisor.tick(now: 1_000 * second).isEmpty)
        #expect(supervisor.crashes.times.isEmpty)
        #expect(supervisor.restarts == 0)
    }

    @Test func operatorRestartClearsTheQuarantineAndTheCrashHistory() {
        var supervisor = PluginSupervisor.make(PluginSupervisionPolicy(maxRestarts: 1))
        _ = supervisor.start(now: 0)
        _ = supervisor.spawnFailed(now: 0, reason: "exec format error")
        _ = supervisor.tick(now: supervisor.nextDeadline ?? 0)
        _ = supervisor.spawnFailed(now: second, reason: "exec format error")
        #expect(supervisor.state == .quarantined)

        let restart = supervisor.operatorRestart(now: 10 * second)
        #expect(restart.spawns == 1)
        #expect(restart.logs == ["plugin 'line1' restarting on request; quarantine cleared"])
        #expect(restart.reports == [.init(state: .starting, health: nil, detail: nil)])
        #expect(supervisor.backoff.attempt == 0)
        // One crash is allowed again before the next quarantine.
        _ = supervisor.spawnFailed(now: 10 * second, reason: "exec format error")
        #expect(supervisor.state == .backingOff)
    }

    @Test func operatorRestartOfARunningPluginStopsItFirst() {
        var supervisor = PluginSupervisor.make()
        supervisor.bringUp(at: 0)
        let restart = supervisor.operatorRestart(now: second)
        #expect(restart.contains(.sendShutdown(graceMilliseconds: 5_000)))
        #expect(restart.spawns == 0)
        #expect(supervisor.state == .stopping)
        #expect(supervisor.exited(now: 2 * second, description: "exit status 0").spawns == 1)
        #expect(supervisor.state == .starting)
        #expect(supervisor.restarts == 0)  // asked for, not after a crash
    }

    @Test func operatorRestartOfAQuarantinedPluginStillStoppingWaitsForTheExit() {
        var supervisor = PluginSupervisor.make()
        _ = supervisor.start(now: 0)
        _ = supervisor.spawned(now: 0)
        _ = supervisor.versionMismatch(now: 0, message: "plugin 'line1' speaks protocol 2; this wharfd speaks 1 to 1")
        let restart = supervisor.operatorRestart(now: second)
        // The shutdown already went out: no second one, no spawn.
        #expect(restart.spawns == 0)
        #expect(!restart.contains(.sendShutdown(graceMilliseconds: 5_000)))
        #expect(supervisor.nextDeadline == 5 * second)
        #expect(supervisor.exited(now: 2 * second, description: "exit status 0").spawns == 1)
    }

    @Test func aStopCancelsAPendingOperatorRestart() {
        var supervisor = PluginSupervisor.make()
        supervisor.bringUp(at: 0)
        _ = supervisor.operatorRestart(now: second)
        _ = supervisor.stop(now: 2 * second)
        #expect(supervisor.exited(now: 3 * second, description: "exit status 0").spawns == 0)
        #expect(supervisor.state == .stopped)
    }
}
