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
    /// Where each part of the configuration in effect came from: a top-level section (`log`) or an
    /// allowed part (`uplink.forward`) → `local` or `remote:VERSION`; empty when not known.
    func configurationSources() async -> [String: String]
    /// Brings gauges and counters read from existing statistics up to date, right before a scrape.
    func refreshMetrics() async
    /// Restarts the plugin adapter `name` now, clearing its quarantine; why it cannot otherwise.
    func restartPlugin(named name: String) async -> String?
    /// Tries a signed remote configuration document handed over locally, with the checks and the
    /// lifecycle of one received from the cloud.
    func applyRemoteConfig(_ document: [UInt8]) async -> RemoteConfigApplyOutcome
    /// The dead-letter table's totals and its newest `limit` records, newest first.
    func deadLetters(limit: Int) async throws(DeadLetterAccessError) -> DeadLetterReport
    /// Deletes every dead letter; returns how many there were.
    func clearDeadLetters() async throws(DeadLetterAccessError) -> Int
    /// The counters of one history sample, read now (cheaply: every few seconds).
    func historyCounters() async -> HistoryCounters
}

extension AdminStatusProvider {
    /// Providers without plugins have none to restart.
    public func restartPlugin(named name: String) async -> String? {
        "no plugin named '\(name)' is running"
    }

    /// Providers without remote configuration know no sources.
    public func configurationSources() async -> [String: String] { [:] }

    /// Providers without remote configuration take no documents.
    public func applyRemoteConfig(_ document: [UInt8]) async -> RemoteConfigApplyOutcome { .notEnabled }

    /// Providers without an uplink have no queue, so no dead letters.
    public func deadLetters(limit: Int) async throws(DeadLetterAccessError) -> DeadLetterReport {
        throw .noQueue
    }

    /// Providers without an uplink have no queue, so nothing to clear.
    public func clearDeadLetters() async throws(DeadLetterAccessError) -> Int { throw .noQueue }

    /// The counters from the status document.
    public func historyCounters() async -> HistoryCounters {
        let status = await status()
        return HistoryCounters(
            messagesReceived: status.broker.messagesReceived, messagesSent: status.broker.messagesSent,
            queueDepth: status.queue?.depth ?? 0, queueBytes: status.queue?.bytes ?? 0,
            connectedClients: status.broker.clientsConnected)
    }
}
