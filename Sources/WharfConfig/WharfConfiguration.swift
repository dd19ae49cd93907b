/// The whole configuration of `wharfd`, as read from `/etc/wharf/wharf.yaml` or a remote push.
///
/// Every setting has a default, so an empty document is a valid configuration.
public struct WharfConfiguration: Sendable, Equatable {
    /// Identity of this gateway towards the cloud.
    public var gateway: GatewayConfig
    /// Log verbosity, overall and per component.
    public var log: LogConfig
    /// Where state is kept on disk.
    public var storage: StorageConfig
    /// The embedded MQTT broker.
    public var broker: BrokerConfig
    /// The bridge to the cloud broker.
    public var uplink: UplinkConfig
    /// Adapter instances (Modbus, CoAP, plugins), in file order.
    public var adapters: [AdapterConfig]
    /// The admin HTTP API.
    public var admin: AdminConfig
    /// Remote configuration from the cloud.
    public var remoteConfig: RemoteConfigConfig

    /// Creates a configuration; every part defaults to its documented default.
    public init(
        gateway: GatewayConfig = GatewayConfig(),
        log: LogConfig = LogConfig(),
        storage: StorageConfig = StorageConfig(),
        broker: BrokerConfig = BrokerConfig(),
        uplink: UplinkConfig = UplinkConfig(),
        adapters: [AdapterConfig] = [],
        admin: AdminConfig = AdminConfig(),
        remoteConfig: RemoteConfigConfig = RemoteConfigConfig()
    ) {
        self.gateway = gateway
        self.log = log
        self.storage = storage
        self.broker = broker
        self.uplink = uplink
        self.adapters = adapters
        self.admin = admin
        self.remoteConfig = remoteConfig
    }

    /// The configuration an empty file gives.
    public static let `default` = WharfConfiguration()
}

/// Identity of this gateway towards the cloud (`gateway:` section).
public struct GatewayConfig: Sendable, Equatable {
    /// Gateway id used in cloud topics such as `wharf/{gateway}/status`; empty means the host name.
    public var id: String

    /// Creates the section.
    public init(id: String = "") {
        self.id = id
    }
}

/// Bounds of the dead-letter table (`storage.dead_letter`); the oldest rows go first when full.
public struct DeadLetterConfig: Sendable, Equatable {
    /// The most dead letters kept (`max_rows`).
    public var maxRows: Int
    /// The most bytes of dead letters kept (`max_bytes`).
    public var maxBytes: Int

    /// Creates the section: 10,000 rows, 16 MiB by default.
    public init(maxRows: Int = 10_000, maxBytes: Int = 16 << 20) {
        self.maxRows = maxRows
        self.maxBytes = maxBytes
    }
}

/// Where state is kept on disk (`storage:` section).
public struct StorageConfig: Sendable, Equatable {
    /// Directory for the store-and-forward queue, broker persistence and staged configs (`data_dir`).
    public var dataDirectory: String
    /// Bounds and durability of the store-and-forward queue.
    public var queue: QueueConfig
    /// Bytes of messages waiting in memory for the database writer, for the whole daemon; beyond
    /// it, new messages for the store are refused (`max_pending_bytes`).
    public var maxPendingBytes: Int
    /// Bounds of the dead-letter table (`dead_letter`): records the cloud refused for good.
    public var deadLetter = DeadLetterConfig()

    /// Creates the section.
    public init(
        dataDirectory: String = "/var/lib/wharf", queue: QueueConfig = QueueConfig(), maxPendingBytes: Int = 64 << 20
    ) {
        self.dataDirectory = dataDirectory
        self.queue = queue
        self.maxPendingBytes = maxPendingBytes
    }
}
