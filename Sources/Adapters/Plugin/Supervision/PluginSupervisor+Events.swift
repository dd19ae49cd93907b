import Logging
import WharfCore

extension PluginSupervisor {
    /// Starts an idle or stopped plugin; does nothing in any other state (a quarantine needs `operatorRestart`).
    public mutating func start(now: UInt64) -> [Action] {
        var actions: [Action] = []
        if state == .idle || state == .stopped {
            spawn(now: now, into: &actions)
        }
        return finish(actions)
    }

    /// The process the last `.spawn` asked for runs: send `init`, or stop it if a stop came meanwhile.
    public mutating func spawned(now: UInt64) -> [Action] {
        guard process == .spawning else { return [] }
        process = .alive
        var actions: [Action] = []
        if terminateOnSpawn {
            // It has not been sent `init`, so it cannot be asked to shut down: SIGTERM at once.
            terminateOnSpawn = false
            terminate(now: now, graceful: false, into: &actions)
        } else {
            lastAliveAt = now
            actions.append(.sendInit)
        }
        return finish(actions)
    }

    /// The last `.spawn` failed (no such file, exec error...): a crash while starting.
    public mutating func spawnFailed(now: UInt64, reason: String) -> [Action] {
        guard process == .spawning else { return [] }
        process = .none
        terminateOnSpawn = false
        var actions: [Action] = []
        if state == .starting {
            crash(now: now, reason: "could not be started: \(reason)", into: &actions)
        } else {
            processGone(now: now, into: &actions)
        }
        return finish(actions)
    }

    /// The plugin sent a valid `ready` (its protocol version checked by the host): it runs.
    public mutating func ready(now: UInt64) -> [Action] {
        guard state == .starting, process == .alive else { return [] }
        lineReceived(now: now)
        state = .running
        startDeadline = nil
        if health == nil { health = .healthy }
        backoff.connected(at: now)
        nextPingAt = Self.deadline(now, plusNanoseconds: healthIntervalNanoseconds)
        unansweredPingSince = nil
        return finish([])
    }

    /// The plugin wrote a line (any line, garbage included): it is alive. Call it for every line,
    /// including those that also lead to `ready` or `healthReported`.
    public mutating func lineReceived(now: UInt64) {
        guard process == .alive, state == .starting || state == .running else { return }
        lastAliveAt = now
        unansweredPingSince = nil
    }

    /// The plugin reported its health (`message` as it sent it); passed through, never a crash by itself.
    public mutating func healthReported(now: UInt64, status: Health, message: String?) -> [Action] {
        guard process == .alive, state == .starting || state == .running else { return [] }
        lineReceived(now: now)
        var actions: [Action] = []
        if status != health {
            let level: Logger.Level = status == .healthy ? .info : .warning
            let suffix = message.map { ": \($0)" } ?? ""
            actions.append(.log(level: level, message: "plugin '\(name)' reports \(status.rawValue) health\(suffix)"))
        }
        health = status
        detail = message
        return finish(actions)
    }

    /// The process exited (`description` as "exit status 3" or "killed by signal 9"). Unasked for while
    /// starting or running, it is a crash whatever the status; otherwise it was expected.
    public mutating func exited(now: UInt64, description: String) -> [Action] {
        guard process != .none else { return [] }
        process = .none
        termination = nil
        terminateOnSpawn = false
        var actions: [Action] = []
        if state == .starting || state == .running {
            crash(now: now, reason: "exited unexpectedly (\(description))", into: &actions)
        } else {
            processGone(now: now, into: &actions)
        }
        return finish(actions)
    }

    /// The plugin's `ready` names a protocol this host does not speak: quarantine at once (a restart
    /// cannot help) and stop the process. `message` is the full log line, naming the plugin.
    public mutating func versionMismatch(now: UInt64, message: String) -> [Action] {
        guard process != .none, state == .starting || state == .running else { return [] }
        var actions: [Action] = [
            .log(level: .error, message: "\(message); quarantined until `wharfctl plugin restart \(name)` or a reload")
        ]
        leaveRun(aliveUntil: now)
        restartPending = false
        state = .quarantined
        health = .failed
        detail = message
        terminate(now: now, graceful: true, into: &actions)
        return finish(actions)
    }

    /// The plugin sent a QoS 1/2 publish without credit; more than `maxCreditViolations` within
    /// `restartWindow` restart it.
    public mutating func creditViolation(now: UInt64) -> [Action] {
        guard process == .alive, state == .starting || state == .running else { return [] }
        var actions: [Action] = []
        let count = creditViolations.record(now)
        if creditViolations.exceeded(count) {
            let window = Self.describe(policy.restartWindow)
            let reason = "exceeded its credit \(count) times within \(window)"
            crash(now: now, reason: reason, into: &actions)
        }
        return finish(actions)
    }
}
