import Testing
import WharfCore

@testable import WharfPlugins

@Suite struct PluginSupervisorStartTests {
    @Test func startsSendsInitAndRuns() {
        var supervisor = PluginSupervisor.make()
        #expect(supervisor.state == .idle)
        #expect(supervisor.nextDeadline == nil)

        #expect(supervisor.start(now: 0) == [.spawn, .report(state: .starting, health: nil, detail: nil)])
        #expect(supervisor.nextDeadline == 30 * second)
        #expect(supervisor.spawned(now: seconds(0.1)) == [.sendInit])
        #expect(supervisor.ready(now: seconds(0.5)) == [.report(state: .running, health: .healthy, detail: nil)])
        #expect(supervisor.state == .running)
        // The start timeout is gone; the first health ping is next.
        #expect(supervisor.nextDeadline == seconds(10.5))
        #expect(supervisor.restarts == 0)
        // A second start or ready changes nothing.
        #expect(supervisor.start(now: second).isEmpty)
        #expect(supervisor.ready(now: second).isEmpty)
    }

    @Test func healthReportedBeforeReadyIsKeptAtReady() {
        var supervisor = PluginSupervisor.make()
        _ = supervisor.start(now: 0)
        _ = supervisor.spawned(now: 0)
        let actions = supervisor.healthReported(now: second, status: .degraded, message: "PLC unreachable")
        #expect(actions.reports == [.init(state: .starting, health: .degraded, detail: "PLC unreachable")])
        #expect(
            supervisor.ready(now: 2 * second) == [
                .report(state: .running, health: .degraded, detail: "PLC unreachable")
            ])
    }

    @Test func noReadyWithinTheStartTimeoutIsACrash() {
        var supervisor = PluginSupervisor.make()
        _ = supervisor.start(now: 0)
        _ = supervisor.spawned(now: seconds(0.1))
        supervisor.lineReceived(now: 20 * second)  // a log line is no `ready`
        #expect(supervisor.tick(now: 30 * second - 1).isEmpty)

        let actions = supervisor.tick(now: 30 * second)
        #expect(actions.signals == [.terminate])
        #expect(actions.spawns == 0)
        #expect(supervisor.state == .backingOff)
        #expect(
            actions.reports == [.init(state: .backingOff, health: .failed, detail: "did not send ready within 30s")])
        #expect(actions.logs.count == 1)
        #expect(actions.logs.first?.hasPrefix("plugin 'line1' did not send ready within 30s; restarting in ") == true)

        // Past the backoff (at most 1 s) but the process has not exited: no second process.
        #expect(supervisor.tick(now: 32 * second).spawns == 0)
        // SIGKILL after the grace.
        #expect(supervisor.tick(now: 35 * second).signals == [.kill])
        #expect(supervisor.nextDeadline == nil)
        let exit = supervisor.exited(now: 36 * second, description: "killed by signal 9")
        #expect(exit == [.spawn, .report(state: .starting, health: nil, detail: nil)])
        #expect(supervisor.restarts == 1)
    }

    @Test func startTimeoutBeforeTheSpawnIsAnsweredTerminatesTheLateProcess() {
        var supervisor = PluginSupervisor.make()
        _ = supervisor.start(now: 0)
        let timeout = supervisor.tick(now: 30 * second)
        #expect(timeout.signals.isEmpty)  // nothing to signal yet
        #expect(supervisor.state == .backingOff)
        // The process shows up late: it never gets `init`, it is terminated.
        #expect(supervisor.spawned(now: 31 * second) == [.signal(.terminate)])
        #expect(supervisor.tick(now: 40 * second).signals == [.kill])
        #expect(supervisor.exited(now: 41 * second, description: "killed by signal 9").spawns == 1)
    }

    @Test func spawnFailureIsACrash() {
        var supervisor = PluginSupervisor.make()
        _ = supervisor.start(now: 0)
        let actions = supervisor.spawnFailed(now: 0, reason: "No such file or directory")
        #expect(actions.signals.isEmpty)
        #expect(
            actions.reports == [
                .init(state: .backingOff, health: .failed, detail: "could not be started: No such file or directory")
            ])
        #expect((supervisor.nextDeadline ?? .max) <= second)
        #expect(supervisor.tick(now: second) == [.spawn, .report(state: .starting, health: nil, detail: nil)])
        #expect(supervisor.restarts == 1)
    }

    @Test func anExitWithStatusZeroWhileRunningIsACrash() {
        var supervisor = PluginSupervisor.make()
        supervisor.bringUp(at: 0)
        let actions = supervisor.exited(now: 5 * second, description: "exit status 0")
        #expect(supervisor.state == .backingOff)
        #expect(actions.signals.isEmpty)  // it is gone already
        #expect(
            actions.reports == [
                .init(state: .backingOff, health: .failed, detail: "exited unexpectedly (exit status 0)")
            ])
    }
}
