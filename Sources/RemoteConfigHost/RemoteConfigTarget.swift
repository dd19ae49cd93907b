public import RemoteConfigState

/// What remote configuration asks of the running daemon; `wharfd` implements it on top of the
/// adapter supervisor, the broker and the health check.
public protocol RemoteConfigTarget: Sendable {
    /// Every problem `wharfctl check` would report for this configuration beyond the schema (each
    /// adapter built from its section, the password file, the ACL), and, when `checkUplink`, the
    /// uplink pre-flight (the host resolves, the TLS files parse and match).
    func check(_ running: RunningConfiguration, acl: String?, checkUplink: Bool) async -> [ReportedError]
    /// Applies `running` live: adapters and plugins that changed restart, log levels and access
    /// control are replaced; the problems if it could not.
    func applyLive(_ running: RunningConfiguration) async -> [ReportedError]
    /// Restarts the daemon (through systemd, or by re-executing itself); it resumes from the record.
    func restartDaemon()
    /// Whether the health checks (broker listeners, event loops, store, adapters and plugins) pass now.
    func healthy() async -> Bool
    /// Publishes the report, retained, on the reported topic (now if the uplink is connected, and
    /// after every reconnect).
    func publishReport(_ document: String)
}
