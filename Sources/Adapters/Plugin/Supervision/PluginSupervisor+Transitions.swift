import Logging
import WharfCore

extension PluginSupervisor {
    /// Asks the host for a new process; the state becomes `starting` and the start timeout runs.
    mutating func spawn(now: UInt64, into actions: inout [Action]) {
        if restartPending {
            restartPending = false
            if restarts < Int.max { restarts += 1 }
        }
        process = .spawning
        state = .starting
        health = nil
        detail = nil
        backoffUntil = nil
        startDeadline = Self.deadline(now, plus: policy.startTimeout)
        nextPingAt = nil
        unansweredPingSince = nil
        lastAliveAt = nil
        creditViolations.removeAll()
        actions.append(.spawn)
    }

    /// A crash while starting or running: count it, then back off or quarantine; a process still
    /// alive (hung, timed out, violating) is terminated, and the next spawn waits for its exit.
    mutating func crash(now: UInt64, reason: String, aliveUntil: UInt64? = nil, into actions: inout [Action]) {
        leaveRun(aliveUntil: aliveUntil ?? now)
        let count = crashes.record(now)
        health = .failed
        if crashes.exceeded(count) {
            let window = Self.describe(policy.restartWindow)
            restartPending = false
            state = .quarantined
            detail = "quarantined after \(count) crashes within \(window); last: \(reason)"
            let message =
                "plugin '\(name)' \(reason); quarantined after \(count) crashes within \(window) "
                + "until `wharfctl plugin restart \(name)` or a reload"
            actions.append(.log(level: .error, message: message))
        } else {
            let delay = backoff.nextDelay(using: &rng)
            backoffUntil = Self.deadline(now, plus: delay)
            restartPending = true
            state = .backingOff
            detail = reason
            let message = "plugin '\(name)' \(reason); restarting in \(Self.describe(delay))"
            actions.append(.log(level: .warning, message: message))
        }
        terminate(now: now, graceful: false, into: &actions)
    }

    /// Ends the run timers of a starting or running plugin, and tells the backoff how long it was up.
    mutating func leaveRun(aliveUntil: UInt64) {
        // Up since `ready` until it last proved alive: a plugin that hangs right after `ready` did not
        // run stably just because detecting the hang took `healthTimeout`.
        backoff.connectionLost(at: aliveUntil)
        startDeadline = nil
        nextPingAt = nil
        unansweredPingSince = nil
        creditViolations.removeAll()
    }

    /// Starts stopping the current process, if there is one: `shutdown` (graceful) or SIGTERM first.
    /// A forced stop overtakes a graceful one still in its first grace.
    mutating func terminate(now: UInt64, graceful: Bool, into actions: inout [Action]) {
        switch process {
        case .none:
            return
        case .spawning:
            terminateOnSpawn = true
        case .alive:
            switch termination {
            case nil where graceful:
                let grace = Self.nanoseconds(policy.shutdownGrace) / 1_000_000
                actions.append(.sendShutdown(graceMilliseconds: Int(clamping: grace)))
                termination = .shutdownSent(until: Self.deadline(now, plus: policy.shutdownGrace))
            case nil:
                sendTerminate(now: now, into: &actions)
            case .shutdownSent where !graceful:
                sendTerminate(now: now, into: &actions)
            case .shutdownSent:
                break
            case .terminated, .killed:
                break
            }
        }
    }

    /// SIGTERM now, SIGKILL after the grace.
    private mutating func sendTerminate(now: UInt64, into actions: inout [Action]) {
        actions.append(.signal(.terminate))
        termination = .terminated(until: Self.deadline(now, plus: policy.shutdownGrace))
    }

    /// The process is gone and it was expected: finish a stop, or spawn the restart that waited for it.
    mutating func processGone(now: UInt64, into actions: inout [Action]) {
        switch state {
        case .stopping:
            if restartAfterStop {
                restartAfterStop = false
                spawn(now: now, into: &actions)
            } else {
                state = .stopped
            }
        case .backingOff:
            if backoffUntil == nil { spawn(now: now, into: &actions) }
        case .idle, .starting, .running, .quarantined, .stopped:
            break
        }
    }

    /// Appends a `.report` if the state, health or detail changed since the last one.
    mutating func finish(_ actions: [Action]) -> [Action] {
        let report = Report(state: state, health: health, detail: detail)
        guard report != lastReport else { return actions }
        lastReport = report
        return actions + [.report(state: state, health: health, detail: detail)]
    }
}
