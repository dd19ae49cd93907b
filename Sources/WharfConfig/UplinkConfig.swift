public import WharfCore

/// The bridge to the operator's cloud MQTT broker (`uplink:` section).
public struct UplinkConfig: Sendable, Equatable {
    /// Whether the uplink runs at all; off in the shipped file.
    public var enabled: Bool
    /// The cloud broker's host name or address (required when enabled).
    public var host: String
    /// The cloud broker's port; 0 means 8883 with TLS and 1883 without.
    public var port: Int
    /// The cloud brokers in order of preference (`uplink.endpoints`); empty when `host` is used instead.
    public var endpoints: [UplinkEndpointConfig]
    /// How long the uplink stays connected to a fallback endpoint before going back to the first;
    /// nil (`never`) stays until that connection is lost.
    public var failback: Duration?
    /// MQTT version spoken to the cloud.
    public var mqttVersion: UplinkMQTTVersion
    /// Client identifier at the cloud broker; empty means `wharf-{gateway}`.
    public var clientID: String
    /// User name and password for the cloud broker, if it wants them.
    public var username: String?
    public var password: String?
    /// MQTT keep alive towards the cloud.
    public var keepAlive: Duration
    /// Start a fresh cloud-side session on every connect (`clean_start`).
    public var cleanStart: Bool
    /// How long the cloud keeps this gateway's session while the link is down.
    public var sessionExpiry: Duration
    /// TLS settings; TLS is on unless `tls.enabled: false`.
    public var tls: UplinkTLSConfig
    /// Reconnect backoff: `delay = random(0, min(cap, base * 2^attempt))`.
    public var backoff: BackoffPolicy
    /// QoS 1 publishes awaiting PUBACK at once (further limited by the cloud's Receive Maximum).
    public var maxInflight: Int
    /// Retained `online`/`offline` topic; `{gateway}` is replaced by the gateway id.
    public var statusTopic: String
    /// Local topics sent to the cloud, through the durable queue.
    public var forward: [ForwardRuleConfig]
    /// Cloud topics subscribed to and republished locally.
    public var subscribe: [RemoteSubscriptionConfig]
    /// Transient PUBACK reason codes and the throttle's pause (`transient_reason_codes`, `throttle`).
    public var refusals = UplinkRefusalsConfig()
    /// Limits for every endpoint (`limits`); an endpoint's own keys override them.
    public var limits = UplinkLimitsConfig()

    /// Creates the section with its defaults.
    public init(
        enabled: Bool = false,
        host: String = "",
        port: Int = 0,
        endpoints: [UplinkEndpointConfig] = [],
        failback: Duration? = UplinkConfig.defaultFailback,
        mqttVersion: UplinkMQTTVersion = .v5,
        clientID: String = "",
        username: String? = nil,
        password: String? = nil,
        keepAlive: Duration = .seconds(60),
        cleanStart: Bool = false,
        sessionExpiry: Duration = .seconds(3600),
        tls: UplinkTLSConfig = UplinkTLSConfig(),
        backoff: BackoffPolicy = BackoffPolicy(),
        maxInflight: Int = 100,
        statusTopic: String = "wharf/{gateway}/status",
        forward: [ForwardRuleConfig] = [],
        subscribe: [RemoteSubscriptionConfig] = []
    ) {
        self.enabled = enabled
        self.host = host
        self.port = port
        self.endpoints = endpoints
        self.failback = failback
        self.mqttVersion = mqttVersion
        self.clientID = clientID
        self.username = username
        self.password = password
        self.keepAlive = keepAlive
        self.cleanStart = cleanStart
        self.sessionExpiry = sessionExpiry
        self.tls = tls
        self.backoff = backoff
        self.maxInflight = maxInflight
        self.statusTopic = statusTopic
        self.forward = forward
        self.subscribe = subscribe
    }

    /// The port actually used: the configured one, or the MQTT default for the transport.
    public var effectivePort: Int { port != 0 ? port : (tls.enabled ? 8883 : 1883) }
}

/// The MQTT version the uplink speaks.
public enum UplinkMQTTVersion: String, Sendable, CaseIterable {
    case v311 = "3.1.1"
    case v5 = "5"
}

/// TLS towards the cloud broker (`uplink.tls`).
public struct UplinkTLSConfig: Sendable, Equatable {
    /// TLS on (default) or plain TCP.
    public var enabled: Bool
    /// PEM file of the CA(s) to trust; empty means the system's trust store.
    public var caFile: String
    /// PEM client certificate (chain) and its private key, when the cloud wants one.
    public var certFile: String
    public var keyFile: String
    /// Name sent as SNI and checked against the certificate; empty means `host`.
    public var serverName: String
    /// Verify the cloud broker's certificate (on by default; turn off only for tests).
    public var verify: Bool

    /// Creates the section with its defaults.
    public init(
        enabled: Bool = true,
        caFile: String = "",
        certFile: String = "",
        keyFile: String = "",
        serverName: String = "",
        verify: Bool = true
    ) {
        self.enabled = enabled
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.serverName = serverName
        self.verify = verify
    }
}

/// One rule sending local messages to the cloud (`uplink.forward[]`).
public struct ForwardRuleConfig: Sendable, Equatable {
    /// The rule's name, for metrics and logs; defaults to its filter.
    public var name: String
    /// Local topic filter selecting the messages.
    public var filter: String
    /// Prefix removed from the local topic (must match when present).
    public var stripPrefix: String
    /// Prefix added to form the remote topic; `{gateway}` is replaced.
    public var remotePrefix: String
    /// QoS used towards the cloud (0 or 1).
    public var qos: Int
    /// What happens when the queue is full.
    public var policy: OverflowPolicyConfig

    /// Creates a rule.
    public init(
        name: String = "",
        filter: String,
        stripPrefix: String = "",
        remotePrefix: String = "",
        qos: Int = 1,
        policy: OverflowPolicyConfig = .dropOldest
    ) {
        self.name = name
        self.filter = filter
        self.stripPrefix = stripPrefix
        self.remotePrefix = remotePrefix
        self.qos = qos
        self.policy = policy
    }
}

/// What a full queue does with a new message for a rule.
public enum OverflowPolicyConfig: String, Sendable, CaseIterable {
    /// Make room by deleting the oldest queued messages (counted).
    case dropOldest = "drop-oldest"
    /// Refuse the new message: MQTT 5 publishers get PUBACK 0x97 (quota exceeded).
    case rejectNew = "reject-new"
}

/// One cloud subscription republished locally (`uplink.subscribe[]`).
public struct RemoteSubscriptionConfig: Sendable, Equatable {
    /// Remote topic filter; `{gateway}` is replaced.
    public var filter: String
    /// QoS of the cloud subscription (0 or 1).
    public var qos: Int
    /// Prefix removed from the remote topic.
    public var stripPrefix: String
    /// Prefix added to form the local topic.
    public var localPrefix: String

    /// Creates a subscription rule.
    public init(filter: String, qos: Int = 1, stripPrefix: String = "", localPrefix: String = "") {
        self.filter = filter
        self.qos = qos
        self.stripPrefix = stripPrefix
        self.localPrefix = localPrefix
    }
}

/// The store-and-forward queue's bounds (`storage.queue`).
public struct QueueConfig: Sendable, Equatable {
    /// Upper bound of queued payload and topic bytes.
    public var maxBytes: Int
    /// Messages older than this are dropped (counted); nil keeps them until `max_bytes` forces a drop.
    public var maxAge: Duration?
    /// `full` survives power loss; `normal` survives a crash of wharfd but may lose the last commits on power loss.
    public var synchronous: SynchronousConfig

    /// Creates the section with its defaults.
    public init(
        maxBytes: Int = 256 << 20, maxAge: Duration? = .seconds(7 * 86_400), synchronous: SynchronousConfig = .full
    ) {
        self.maxBytes = maxBytes
        self.maxAge = maxAge
        self.synchronous = synchronous
    }
}

/// SQLite's `synchronous` setting for the data directory's database.
public enum SynchronousConfig: String, Sendable, CaseIterable {
    case full
    case normal
}
