public import RemoteConfigState

/// Remote configuration as the status page and `wharfctl` show it.
public struct RemoteConfigSnapshot: Sendable {
    /// The report (versions, last attempt).
    public var report: RemoteConfigReport
    /// Where each section of the running configuration comes from.
    public var sources: [String: String]
    /// The hash of the running effective configuration.
    public var effectiveConfigHash: String
    /// Seconds left to confirm a provisional configuration, while one is pending.
    public var confirmationSecondsLeft: Double?
    /// The state of the lifecycle.
    public var state: RemoteConfigMachine.State
}

/// The answer to a document applied locally (`wharfctl config apply`).
public struct RemoteConfigLocalOutcome: Sendable {
    /// `pending-confirmation`, `applied`, `rejected`, `rolled-back` or `ignored`.
    public var result: String
    /// The document's version, when it could be read.
    public var version: UInt64?
    /// The problems, each with its key path.
    public var errors: [ReportedError]
    /// A sentence for the technician.
    public var message: String
}
