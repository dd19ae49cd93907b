/// The checks of the conformance kit, in the order they are reported.
public enum ConformanceCheck: String, Sendable, CaseIterable {
    /// `ready` arrives in time and is well-formed (name and version present).
    case ready
    /// The protocol version in `ready` lies in the offered range.
    case protocolVersion = "protocol"
    /// Only `log` and `health` before `ready`.
    case beforeReady = "before-ready"
    /// A health ping is answered.
    case health
    /// Never more QoS 1/2 publishes unanswered than the credit; ids unique while unanswered.
    case credit
    /// The plugin keeps running after a `nack`.
    case nack
    /// The plugin takes a command on one of its subscriptions and keeps running.
    case command
    /// `shutdown` ends the plugin with status 0 within the grace period.
    case shutdown
    /// Every line is a valid message.
    case lines
}

/// The outcome of one check.
public struct ConformanceFinding: Sendable, Hashable {
    /// Passed, failed, or not run.
    public enum Verdict: String, Sendable {
        /// The plugin did what the protocol asks.
        case pass = "PASS"
        /// It did not.
        case fail = "FAIL"
        /// The check could not be run (the plugin never published, has no subscriptions...).
        case skip = "SKIP"
    }

    /// The check.
    public var check: ConformanceCheck
    /// Its outcome.
    public var verdict: Verdict
    /// What was seen, quoting the offending line on a failure.
    public var detail: String

    /// The report line: `PASS ready: ...`.
    public var report: String { "\(verdict.rawValue) \(check.rawValue): \(detail)" }
}

/// How a plugin process ended.
public enum PluginExit: Sendable, Hashable, CustomStringConvertible {
    /// It exited with this status.
    case status(Int32)
    /// A signal ended it.
    case signal(Int32)

    /// `status 3`, `signal 9`.
    public var description: String {
        switch self {
        case .status(let code): "status \(code)"
        case .signal(let number): "signal \(number)"
        }
    }
}

/// What the driver of a conformance run must do.
public enum ConformanceAction: Sendable {
    /// Write this line to the plugin's stdin.
    case send(HostMessage)
    /// The plugin did not exit in time: kill its process group.
    case kill
}
