import Logging
import WharfCore

extension PluginSupervisor {
    /// Stops the plugin for good (shutdown of wharfd, a reload removing it): `shutdown`, SIGTERM after
    /// `shutdownGrace`, SIGKILL after another; no restart; `stopped` once the process exited.
    public mutating func stop(now: UInt64) -> [Action] {
        restartAfterStop = false
        var actions: [Action] = []
        switch state {
        case .idle:
            state = .stopped
        case .starting, .running, .backingOff, .quarantined:
            leaveRun(aliveUntil: now)
            restartPending = false
            backoffUntil = nil
            health = nil
            detail = nil
            if process == .none {
                state = .stopped
            } else {
                state = .stopping
                terminate(now: now, graceful: true, into: &actions)
            }
        case .stopping, .stopped:
            break
        }
        return finish(actions)
    }

    /// An operator's restart (`wharfctl plugin restart`, a reload): clears the quarantine, the crash
    /// history and the backoff, stops the current process if any, and spawns a new one at once.
    public mutating func operatorRestart(now: UInt64) -> [Action] {
        var actions: [Action] = []
        let cleared = state == .quarantined ? "; quarantine cleared" : ""
        actions.append(.log(level: .notice, message: "plugin '\(name)' restarting on request\(cleared)"))
        crashes.removeAll()
        backoff.reset()
        if state == .starting || state == .running {
            leaveRun(aliveUntil: now)
        }
        restartPending = false
        backoffUntil = nil
        health = nil
        detail = nil
        if process == .none {
            spawn(now: now, into: &actions)
        } else {
            state = .stopping
            restartAfterStop = true
            terminate(now: now, graceful: true, into: &actions)
        }
        return finish(actions)
    }

    /// Acts on every deadline that has come: stop escalation, start timeout, health ping and timeout,
    /// end of the backoff delay.
    public mutating func tick(now: UInt64) -> [Action] {
        var actions: [Action] = []
        escalate(now: now, into: &actions)
        switch state {
        case .starting:
            if let startDeadline, now >= startDeadline {
                let reason = "did not send ready within \(Self.describe(policy.startTimeout))"
                crash(now: now, reason: reason, into: &actions)
            }
        case .running:
            if let healthDeadline, now >= healthDeadline {
                let reason = "did not answer within \(Self.describe(policy.healthTimeout))"
                crash(now: now, reason: reason, aliveUntil: lastAliveAt, into: &actions)
            } else if let nextPingAt, now >= nextPingAt {
                actions.append(.sendHealthPing)
                if unansweredPingSince == nil { unansweredPingSince = now }
                // From now rather than from the due time: a late tick must not bunch pings up.
                self.nextPingAt = Self.deadline(now, plusNanoseconds: healthIntervalNanoseconds)
            }
        case .backingOff:
            if let backoffUntil, now >= backoffUntil {
                self.backoffUntil = nil
                // A hung process being killed must exit first: `exited` spawns then.
                if process == .none { spawn(now: now, into: &actions) }
            }
        case .idle, .stopping, .quarantined, .stopped:
            break
        }
        return finish(actions)
    }

    /// The next step of a stop under way, if its grace is over.
    private mutating func escalate(now: UInt64, into actions: inout [Action]) {
        let grace = Self.describe(policy.shutdownGrace)
        switch termination {
        case .shutdownSent(let until) where now >= until:
            actions.append(.signal(.terminate))
            actions.append(.log(level: .notice, message: "plugin '\(name)' did not exit within \(grace); SIGTERM"))
            termination = .terminated(until: Self.deadline(now, plus: policy.shutdownGrace))
        case .terminated(let until) where now >= until:
            actions.append(.signal(.kill))
            actions.append(.log(level: .warning, message: "plugin '\(name)' did not exit within \(grace); SIGKILL"))
            termination = .killed
        default:
            break
        }
    }
}
