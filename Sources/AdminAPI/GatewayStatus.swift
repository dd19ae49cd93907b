public import AdapterKit

/// The body of `GET /api/v1/status`: what an operator wants to see of a running gateway.
///
/// Encoded with snake_case keys (`gateway_id`, `uptime_seconds`, ...); `wharfctl status`
/// reads the same document.
public struct GatewayStatus: Codable, Sendable, Equatable {
    /// The daemon's version.
    public var version: String
    /// The gateway id used in cloud topics.
    public var gatewayID: String
    /// Seconds since the daemon started.
    public var uptimeSeconds: Double
    /// Whether the health check passes, and why not.
    public var health: HealthReport
    /// The MQTT listeners and the addresses they are bound to.
    public var listeners: [ListenerStatus]
    /// The broker's clients, messages and subscriptions.
    public var broker: BrokerStatus
    /// Adapter instances and their health.
    public var adapters: [AdapterStatus]
    /// The store-and-forward queue; nil when the uplink is disabled.
    public var queue: QueueStatus?
    /// The uplink to the cloud; nil when disabled.
    public var uplink: UplinkStatusReport?
    /// The outcome of the last configuration reload, if there was one.
    public var lastReload: ReloadStatus?
    /// Remote configuration's state; nil when it is not enabled.
    public var remoteConfig: RemoteConfigStatus?

    /// Creates a status document.
    public init(
        version: String,
        gatewayID: String,
        uptimeSeconds: Double,
        health: HealthReport,
        listeners: [ListenerStatus],
        broker: BrokerStatus,
        adapters: [AdapterStatus],
        queue: QueueStatus?,
        uplink: UplinkStatusReport?,
        lastReload: ReloadStatus? = nil,
        remoteConfig: RemoteConfigStatus? = nil
    ) {
        self.version = version
        self.gatewayID = gatewayID
        self.uptimeSeconds = uptimeSeconds
        self.health = health
        self.listeners = listeners
        self.broker = broker
        self.adapters = adapters
        self.queue = queue
        self.uplink = uplink
        self.lastReload = lastReload
        self.remoteConfig = remoteConfig
    }
}

/// One MQTT listener.
public struct ListenerStatus: Codable, Sendable, Equatable {
    /// The listener's name from the config.
    public var name: String
    /// The bound address, such as `127.0.0.1:1883`.
    public var address: String

    /// Creates a listener entry.
    public init(name: String, address: String) {
        self.name = name
        self.address = address
    }
}

/// The broker's counters.
public struct BrokerStatus: Codable, Sendable, Equatable {
    /// Clients connected now.
    public var clientsConnected: Int
    /// The most clients connected at once.
    public var clientsMaximum: Int
    /// Sessions kept, connected or not.
    public var sessions: Int
    /// PUBLISH packets received from clients and adapters' clients.
    public var messagesReceived: Int
    /// PUBLISH packets sent to clients.
    public var messagesSent: Int
    /// Bytes read from client sockets.
    public var bytesReceived: Int
    /// Bytes written to client sockets.
    public var bytesSent: Int
    /// Subscriptions of all sessions.
    public var subscriptions: Int
    /// Retained messages.
    public var retained: Int

    /// Creates the broker entry.
    public init(
        clientsConnected: Int = 0,
        clientsMaximum: Int = 0,
        sessions: Int = 0,
        messagesReceived: Int = 0,
        messagesSent: Int = 0,
        bytesReceived: Int = 0,
        bytesSent: Int = 0,
        subscriptions: Int = 0,
        retained: Int = 0
    ) {
        self.clientsConnected = clientsConnected
        self.clientsMaximum = clientsMaximum
        self.sessions = sessions
        self.messagesReceived = messagesReceived
        self.messagesSent = messagesSent
        self.bytesReceived = bytesReceived
        self.bytesSent = bytesSent
        self.subscriptions = subscriptions
        self.retained = retained
    }
}

/// One adapter instance.
public struct AdapterStatus: Codable, Sendable, Equatable {
    /// The instance name.
    public var name: String
    /// The adapter type (`modbus`, `coap`, ...).
    public var type: String
    /// `starting`, `healthy`, `degraded`, `failed` or `stopped`.
    public var health: String
    /// What is wrong, for `degraded` and `failed`.
    public var detail: String?
    /// The supervised process of a plugin adapter.
    public var plugin: ProcessStatus?

    /// Creates an adapter entry.
    public init(name: String, type: String, health: String, detail: String? = nil, plugin: ProcessStatus? = nil) {
        self.name = name
        self.type = type
        self.health = health
        self.detail = detail
        self.plugin = plugin
    }
}

/// The store-and-forward queue.
public struct QueueStatus: Codable, Sendable, Equatable {
    /// Records waiting to go upstream.
    public var depth: Int
    /// Their size in bytes.
    public var bytes: Int
    /// Age of the oldest record in seconds.
    public var oldestAgeSeconds: Double
    /// Records acknowledged by the cloud per second, recently.
    public var drainRatePerSecond: Double
    /// Records dropped since start, by reason.
    public var dropped: [String: Int]

    /// Creates the queue entry.
    public init(depth: Int, bytes: Int, oldestAgeSeconds: Double, drainRatePerSecond: Double, dropped: [String: Int]) {
        self.depth = depth
        self.bytes = bytes
        self.oldestAgeSeconds = oldestAgeSeconds
        self.drainRatePerSecond = drainRatePerSecond
        self.dropped = dropped
    }
}

/// The uplink to the cloud broker.
public struct UplinkStatusReport: Codable, Sendable, Equatable {
    /// `connecting`, `connected`, `backing-off` or `stopped`.
    public var state: String
    /// The cloud broker in use or being tried, as `host:port` (the same as `endpoint`, kept for
    /// readers of earlier versions).
    public var remote: String
    /// The endpoint in use, or being tried while not connected, as `host:port`.
    public var endpoint: String?
    /// Connections accepted by another endpoint than the previous one, failbacks aside, since start.
    public var failovers: Int
    /// Reconnect attempts since start.
    public var reconnects: Int
    /// Why the last attempt failed; nil while connected.
    public var lastError: String?
    /// Publishes awaiting PUBACK.
    public var inFlight: Int
    /// Records the cloud acknowledged since start.
    public var acknowledged: Int

    /// Creates the uplink entry.
    public init(
        state: String, remote: String, endpoint: String? = nil, failovers: Int = 0, reconnects: Int,
        lastError: String?, inFlight: Int, acknowledged: Int
    ) {
        self.state = state
        self.remote = remote
        self.endpoint = endpoint
        self.failovers = failovers
        self.reconnects = reconnects
        self.lastError = lastError
        self.inFlight = inFlight
        self.acknowledged = acknowledged
    }
}

/// The outcome of the last SIGHUP reload.
public struct ReloadStatus: Codable, Sendable, Equatable {
    /// `applied` or `rejected`.
    public var outcome: String
    /// Seconds since the daemon started, when the reload happened.
    public var atUptimeSeconds: Double
    /// The problems that made it rejected, or the changes that wait for a restart.
    public var messages: [String]

    /// Creates a reload entry.
    public init(outcome: String, atUptimeSeconds: Double, messages: [String]) {
        self.outcome = outcome
        self.atUptimeSeconds = atUptimeSeconds
        self.messages = messages
    }
}

/// Whether the daemon is healthy: its listeners are bound and its parts answer.
public struct HealthReport: Codable, Sendable, Equatable {
    /// What is wrong; empty when healthy.
    public var problems: [String]

    /// Creates a report.
    public init(problems: [String] = []) {
        self.problems = problems
    }

    /// True when nothing is wrong.
    public var isHealthy: Bool { problems.isEmpty }

    /// A healthy report.
    public static let healthy = HealthReport()
}
