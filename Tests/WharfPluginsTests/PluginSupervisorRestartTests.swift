import Testing
import WharfCore

@testable import WharfPlugins

/// A plugin that crashes right at start: start or respawn at `now`, then exit.
private func crashAtStart(_ supervisor: inout PluginSupervisor, at now: UInt64) -> [Action] {
    var actions = supervisor.state == .backingOff ? supervisor.tick(now: now) : supervisor.start(now: now)
    actions += supervisor.spawned(now: now)
    actions += supervisor.exited(now: now, description: "exit status 1")
    return actions
}

@Suite struct PluginSupervisorRestartTests {
    @Test func crashesBeyondMaxRestartsWithinTheWindowQuarantine() {
        let policy = PluginSupervisionPolicy(maxRestarts: 3, restartWindow: .seconds(600))
        var supervisor = PluginSupervisor.make(policy)
        var now: UInt64 = 0
        for crash in 1...3 {
            let actions = crashAtStart(&supervisor, at: now)
            #expect(actions.spawns == 1)
            #expect(supervisor.state == .backingOff, "crash \(crash)")
            now = supervisor.nextDeadline ?? now
        }
        let actions = crashAtStart(&supervisor, at: now)
        #expect(supervisor.state == .quarantined)
        #expect(supervisor.health == .failed)
        #expect(supervisor.restarts == 3)
        let detail = "quarantined after 4 crashes within 10m; last: exited unexpectedly (exit status 1)"
        #expect(actions.reports.last == .init(state: .quarantined, health: .failed, detail: detail))
        let log =
            "plugin 'line1' exited unexpectedly (exit status 1); quarantined after 4 crashes within 10m "
            + "until `wharfctl plugin restart line1` or a reload"
        #expect(actions.logs == [log])

        // Nothing brings it back but an operator.
        #expect(supervisor.nextDeadline == nil)
        #expect(supervisor.tick(now: now + 3_600 * second).isEmpty)
        #expect(supervisor.start(now: now + 3_600 * second).isEmpty)
        #expect(supervisor.state == .quarantined)
    }

    @Test func crashesSpreadBeyondTheWindowDoNotQuarantine() {
        let policy = PluginSupervisionPolicy(
            backoff: BackoffPolicy(base: .seconds(1), cap: .seconds(1)), maxRestarts: 2, restartWindow: .seconds(60))
        var supervisor = PluginSupervisor.make(policy)
        var now: UInt64 = 0
        for _ in 1...10 {
            _ = crashAtStart(&supervisor, at: now)
            #expect(supervisor.state == .backingOff)
            // 30 s apart: when a crash comes, the one two before it is just over 60 s old, so at most
            // two lie within the window...
            now += 30 * second + 1
        }
        #expect(supervisor.restarts == 9)
        // ...while three within 60 s quarantine.
        now += second
        _ = crashAtStart(&supervisor, at: now)
        _ = crashAtStart(&supervisor, at: now + 2 * second)
        #expect(supervisor.state == .quarantined)
    }

    @Test func delaysStayUnderTheFullJitterCeilingAndGrow() {
        let policy = PluginSupervisionPolicy(
            backoff: BackoffPolicy(base: .seconds(1), cap: .seconds(60)), maxRestarts: 100, restartWindow: .seconds(1))
        var delaysByAttempt = [[UInt64]](repeating: [], count: 9)
        for seed in 1...40 as ClosedRange<UInt64> {
            var supervisor = PluginSupervisor.make(policy, seed: seed)
            var reference = Backoff(policy: policy.backoff)
            var referenceRNG = SplitMix64(seed: seed)
            var now: UInt64 = 0
            for attempt in 0..<9 {
                let ceiling = PluginSupervisor.nanoseconds(policy.backoff.ceiling(forAttempt: attempt))
                _ = crashAtStart(&supervisor, at: now)
                let delay = (supervisor.nextDeadline ?? 0) - now
                #expect(delay <= ceiling, "attempt \(attempt)")
                // Exactly the shared backoff's full-jitter draws.
                #expect(delay == PluginSupervisor.nanoseconds(reference.nextDelay(using: &referenceRNG)))
                delaysByAttempt[attempt].append(delay)
                now += delay
            }
        }
        // Full jitter spreads over the range, and the range grows: later delays exceed the first ceiling.
        #expect(delaysByAttempt[0].allSatisfy { $0 <= second })
        #expect(delaysByAttempt[6].contains { $0 > 30 * second })
        #expect(delaysByAttempt[6].contains { $0 < 30 * second })
        #expect(delaysByAttempt[8].max() ?? 0 > delaysByAttempt[2].max() ?? 0)
    }

    @Test func aStableRunResetsTheBackoffAndAFlapDoesNot() {
        let policy = PluginSupervisionPolicy(maxRestarts: 100)
        var supervisor = PluginSupervisor.make(policy)
        var now: UInt64 = 0
        for _ in 0..<3 {
            _ = crashAtStart(&supervisor, at: now)
            now = supervisor.nextDeadline ?? now
        }
        #expect(supervisor.backoff.attempt == 3)

        // Up for 29 s: a flap, the backoff keeps growing.
        supervisor.bringUp(at: now)
        supervisor.lineReceived(now: now + 29 * second)
        _ = supervisor.exited(now: now + 29 * second, description: "exit status 2")
        #expect(supervisor.backoff.attempt == 4)
        now = supervisor.nextDeadline ?? now

        // Up for 30 s (stableAfter): the next delay is drawn under the base again.
        supervisor.bringUp(at: now)
        _ = supervisor.exited(now: now + 30 * second, description: "exit status 2")
        #expect(supervisor.backoff.attempt == 1)
        #expect((supervisor.nextDeadline ?? .max) <= now + 31 * second)
    }

    @Test func aHangRightAfterReadyIsNoStableRun() {
        var supervisor = PluginSupervisor.make()
        _ = crashAtStart(&supervisor, at: 0)
        var now = supervisor.nextDeadline ?? 0
        supervisor.bringUp(at: now)
        // Pings at +10 s, +20 s, +30 s; hang detected at +40 s, i.e. after stableAfter. It last proved
        // alive at `ready`, so the backoff does not start over.
        for _ in 0..<4 {
            now += 10 * second
            _ = supervisor.tick(now: now)
        }
        #expect(supervisor.state == .backingOff)
        #expect(supervisor.backoff.attempt == 2)
    }
}
