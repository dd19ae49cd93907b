public import WharfConfig

/// What the admin API asks of the daemon. `wharfd` implements it on top of the broker, the
/// store and the uplink, so this module needs none of them.
public protocol AdminStatusProvider: Sendable {
    /// The status document, read now.
    func status() async -> GatewayStatus
    /// Runs the live health check: listeners bound, event loops and the store writer answering.
    func health() async -> HealthReport
    /// The configuration in effect (the last one applied).
    func effectiveConfiguration() async -> WharfConfiguration
    /// Brings gauges and counters read from existing statistics up to date, right before a scrape.
    func refreshMetrics() async
    /// Restarts the plugin adapter `name` now, clearing its quarantine; why it cannot otherwise.
    func restartPlugin(named name: String) async -> String?
}

extension AdminStatusProvider {
    /// Providers without plugins have none to restart.
    public func restartPlugin(named name: String) async -> String? {
        "no plugin named '\(name)' is running"
    }
}
