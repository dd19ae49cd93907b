import AdminAPI
import Broker
import NIOCore
import RemoteConfigHost
import Synchronization
import WharfConfig
import WharfGateway

/// The running daemon as the admin API, the metrics and systemd see it: reads the broker's,
/// the queue's and the uplink's statistics on demand, and runs the live health check.
final class DaemonRuntime: AdminStatusProvider, Sendable {
    let version: String
    let gatewayID: String
    let gateway: Gateway
    let supervisor: AdapterSupervisor
    let metrics = GatewayMetrics()
    private let startedAt = ContinuousClock.now
    private let effective: Mutex<WharfConfiguration>
    private let listeners = Mutex<[ListenerStatus]?>(nil)
    private let reload = Mutex<ReloadStatus?>(nil)
    private let loopProbes: [HealthProbe]
    private let storeProbe: HealthProbe
    private let remoteHost = Mutex<RemoteConfigHost?>(nil)

    /// Remote configuration, when enabled.
    var remoteConfig: RemoteConfigHost? {
        get { remoteHost.withLock { $0 } }
        set { remoteHost.withLock { $0 = newValue } }
    }

    init(
        configuration: WharfConfiguration,
        version: String,
        gatewayID: String,
        gateway: Gateway,
        supervisor: AdapterSupervisor,
        group: any EventLoopGroup
    ) {
        self.version = version
        self.gatewayID = gatewayID
        self.gateway = gateway
        self.supervisor = supervisor
        self.effective = Mutex(configuration)
        var probes: [HealthProbe] = []
        for loop in group.makeIterator() {
            probes.append(HealthProbe(timeout: .seconds(2)) { try? await loop.submit {}.get() })
        }
        loopProbes = probes
        storeProbe = HealthProbe(timeout: .seconds(5)) { [gateway] in await gateway.probeStore() }
        metrics.recordBuildInfo(version: version)
    }

    var uptimeSeconds: Double {
        let elapsed = ContinuousClock.now - startedAt
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// The configuration in effect now.
    var configuration: WharfConfiguration { effective.withLock { $0 } }

    /// Records what a reload put into effect.
    func applied(_ configuration: WharfConfiguration) {
        effective.withLock { $0 = configuration }
    }

    /// Records the outcome of a reload for the status page.
    func recordReload(outcome: String, messages: [String]) {
        let status = ReloadStatus(outcome: outcome, atUptimeSeconds: uptimeSeconds, messages: messages)
        reload.withLock { $0 = status }
    }

    /// Called once the broker listeners are bound.
    func listenersBound(_ addresses: [SocketAddress]) {
        let names = configuration.broker.listeners.map(\.name)
        let entries = addresses.enumerated().map { index, address in
            ListenerStatus(
                name: index < names.count ? names[index] : "listener-\(index)",
                address: Self.describe(address)
            )
        }
        listeners.withLock { $0 = entries }
    }

    static func describe(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    func health() async -> HealthReport {
        var problems: [String] = []
        if listeners.withLock({ $0 }) == nil {
            problems.append("the broker's MQTT listeners are not bound yet")
        }
        var stuck = 0
        for probe in loopProbes where !(await probe.answers()) {
            stuck += 1
        }
        if stuck > 0 {
            problems.append("\(stuck) of \(loopProbes.count) broker event loops did not answer within 2 s")
        }
        if !(await storeProbe.answers()) {
            problems.append("the store writer did not answer within 5 s")
        }
        return HealthReport(problems: problems)
    }

    func status() async -> GatewayStatus {
        let broker = gateway.broker.snapshot()
        let queue = gateway.queueSnapshot()
        let uplink = gateway.uplinkSnapshot()
        let uplinkConfig = configuration.uplink
        return GatewayStatus(
            version: version,
            gatewayID: gatewayID,
            uptimeSeconds: uptimeSeconds,
            health: await health(),
            listeners: listeners.withLock { $0 } ?? [],
            broker: BrokerStatus(
                clientsConnected: broker.clientsConnected,
                clientsMaximum: broker.clientsMaximum,
                sessions: broker.sessions,
                messagesReceived: broker.messagesReceived,
                messagesSent: broker.messagesSent,
                bytesReceived: broker.bytesReceived,
                bytesSent: broker.bytesSent,
                subscriptions: broker.subscriptions,
                retained: broker.retained
            ),
            adapters: supervisor.statuses(),
            queue: queue.map { queue in
                QueueStatus(
                    depth: queue.depth,
                    bytes: queue.bytes,
                    oldestAgeSeconds: queue.oldestAgeSeconds,
                    drainRatePerSecond: uplink?.drainRatePerSecond ?? 0,
                    dropped: queue.dropped
                )
            },
            uplink: uplink.map { uplink in
                UplinkStatusReport(
                    state: uplink.state,
                    remote: uplink.endpoint ?? uplinkConfig.effectiveEndpoints.first?.written(port: 0) ?? "",
                    endpoint: uplink.endpoint,
                    failovers: uplink.failovers,
                    reconnects: uplink.reconnects,
                    lastError: uplink.lastError,
                    inFlight: uplink.inFlight,
                    acknowledged: uplink.acknowledged
                )
            },
            lastReload: reload.withLock { $0 },
            remoteConfig: remoteConfigStatus()
        )
    }

    /// The one-line status systemd shows, such as `serving 3 clients, queue 0, uplink connected`.
    func statusLine() -> String {
        let clients = gateway.broker.connectedClients
        var line = "serving \(clients) client\(clients == 1 ? "" : "s")"
        if let queue = gateway.queueSnapshot() { line += ", queue \(queue.depth)" }
        if let uplink = gateway.uplinkSnapshot() { line += ", uplink \(uplink.state)" }
        return line
    }

    /// Read from the broker's and the queue's counters, without the health probes of `status()`.
    func historyCounters() async -> HistoryCounters {
        let broker = gateway.broker.snapshot()
        let queue = gateway.queueSnapshot()
        return HistoryCounters(
            messagesReceived: broker.messagesReceived, messagesSent: broker.messagesSent,
            queueDepth: queue?.depth ?? 0, queueBytes: queue?.bytes ?? 0, connectedClients: broker.clientsConnected)
    }

    func effectiveConfiguration() async -> WharfConfiguration {
        configuration
    }

    func refreshMetrics() async {
        metrics.record(sample())
    }

    func restartPlugin(named name: String) async -> String? {
        supervisor.restartProcess(named: name)
    }
}
