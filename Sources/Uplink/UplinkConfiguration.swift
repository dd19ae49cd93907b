public import MQTTCodec
public import WharfCore

/// TLS settings of the uplink: which servers to trust and which certificate to present.
public struct UplinkTLS: Sendable, Hashable {
    /// PEM file of the certificate authorities to trust; nil trusts the system's default roots.
    public var caFile: String?
    /// PEM file of the client certificate chain (leaf first), for servers that require one.
    public var certificateFile: String?
    /// PEM file of the client certificate's private key.
    public var privateKeyFile: String?
    /// The name sent as SNI and checked against the server certificate; nil uses the host.
    public var serverName: String?
    /// Whether to verify the server certificate chain and name; turn off only for testing.
    public var verify: Bool

    /// Creates TLS settings.
    public init(
        caFile: String? = nil,
        certificateFile: String? = nil,
        privateKeyFile: String? = nil,
        serverName: String? = nil,
        verify: Bool = true
    ) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.serverName = serverName
        self.verify = verify
    }
}

/// A subscription on the cloud broker whose messages are published into the local broker.
public struct RemoteSubscription: Sendable, Hashable {
    /// The topic filter subscribed to on the cloud broker.
    public var remoteFilter: String
    /// The maximum QoS requested for it.
    public var qos: QoS
    /// Maps a remote topic to the local topic it is published under.
    public var remap: TopicRemap

    /// Creates a subscription whose topics are mapped by `remap`.
    public init(remoteFilter: String, qos: QoS = .atLeastOnce, remap: TopicRemap = .identity) {
        self.remoteFilter = remoteFilter
        self.qos = qos
        self.remap = remap
    }

    /// Creates a subscription that replaces `stripPrefix` with `localPrefix`
    /// (`cmd/gw1/#`, strip `cmd/gw1/`, local prefix `commands/`: `cmd/gw1/x` arrives as `commands/x`).
    public init(remoteFilter: String, qos: QoS = .atLeastOnce, stripPrefix: String = "", localPrefix: String = "") {
        self.init(remoteFilter: remoteFilter, qos: qos, remap: TopicRemap(removing: stripPrefix, adding: localPrefix))
    }

    /// The local filter the remote filter maps to; throws when the mapping cannot be applied to it.
    public func localFilter() throws(TopicRemapError) -> String {
        try remap.mapFilter(remoteFilter)
    }
}

/// One cloud broker the uplink may connect to.
public struct UplinkEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// Host name or IP address (IPv6 without brackets); also the TLS server name unless one is set.
    public var host: String
    /// The port.
    public var port: Int
    /// Where it was configured (`uplink.host`, `uplink.endpoints[1]`), for the pre-flight's problems.
    public var keyPath: String
    /// The operator's limits towards this endpoint.
    public var limits: UplinkLimits

    /// Creates an endpoint.
    public init(host: String, port: Int, keyPath: String = "uplink.host", limits: UplinkLimits = UplinkLimits()) {
        self.host = host
        self.port = port
        self.keyPath = keyPath
        self.limits = limits
    }

    /// `host:port`, with an IPv6 address in brackets (`[::1]:8883`).
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Everything the uplink needs to reach and use the cloud broker.
public struct UplinkConfiguration: Sendable {
    /// The cloud brokers in order of preference (a cluster's nodes, or a primary and its backups);
    /// an empty list behaves as one endpoint with an empty host, which never connects.
    public var endpoints: [UplinkEndpoint]
    /// How long to stay connected to an endpoint other than the first before returning to the first;
    /// nil stays until that connection is lost.
    public var failback: Duration?
    /// TLS settings; nil connects over plain TCP.
    public var tls: UplinkTLS?
    /// The client identifier; empty asks the server to assign one (MQTT 5), which is then reused.
    public var clientIdentifier: String
    /// The user name, if the server wants one.
    public var username: String?
    /// The password, if the server wants one.
    public var password: String?
    /// Keep alive in seconds; 0 disables it. An MQTT 5 server may impose its own (Server Keep Alive).
    public var keepAlive: UInt16
    /// Whether to start a new session on every connection instead of resuming the previous one.
    public var cleanStart: Bool
    /// MQTT 5 Session Expiry Interval in seconds: how long the server keeps the session after a drop.
    /// (MQTT 3.1.1 has no expiry: without clean start the server keeps the session until it decides otherwise.)
    public var sessionExpiry: UInt32
    /// The protocol version spoken.
    public var version: MQTTProtocolVersion
    /// How long to wait between reconnect attempts.
    public var backoff: BackoffPolicy
    /// The largest number of QoS 1 and 2 publishes awaiting PUBACK (or PUBCOMP); the server's Receive
    /// Maximum lowers it.
    public var maxInflight: Int
    /// The resolved status topic (`wharf/{gateway}/status`): retained "online", will "offline".
    public var statusTopic: String
    /// Cloud subscriptions forwarded into the local broker (with MQTT 5 No Local, so the uplink's own
    /// publications never come back).
    public var subscriptions: [RemoteSubscription]
    /// The most records read from the queue at once.
    public var readBatch: Int
    /// How long to wait for the TCP (and TLS) connection and the CONNACK.
    public var connectTimeout: Duration
    /// On a graceful stop, how long to wait for outstanding PUBACKs and the "offline" PUBACK.
    public var shutdownTimeout: Duration
    /// The gateway's own topics (remote configuration), if any; they take precedence over `subscriptions`.
    public var control: UplinkControl?
    /// Whether a forward rule asks for QoS 2, which the uplink then uses where the server grants it.
    public var exactlyOnce = false
    /// Which PUBACK reason codes are transient (retried) and which permanent (dead-lettered).
    public var refusals = RefusalClassifier()
    /// The pause before sending again after a transient refusal, growing while refusals continue.
    public var throttleBackoff = BackoffPolicy(base: .milliseconds(100), cap: .seconds(30))

    /// Creates a configuration for one broker; everything but the server and identity has a default.
    public init(
        host: String,
        port: Int = 1883,
        tls: UplinkTLS? = nil,
        clientIdentifier: String,
        username: String? = nil,
        password: String? = nil,
        keepAlive: UInt16 = 60,
        cleanStart: Bool = false,
        sessionExpiry: UInt32 = 3600,
        version: MQTTProtocolVersion = .v5,
        backoff: BackoffPolicy = .standard,
        maxInflight: Int = 100,
        statusTopic: String,
        subscriptions: [RemoteSubscription] = [],
        readBatch: Int = 256,
        connectTimeout: Duration = .seconds(10),
        shutdownTimeout: Duration = .seconds(3)
    ) {
        self.endpoints = [UplinkEndpoint(host: host, port: port)]
        self.failback = nil
        self.tls = tls
        self.clientIdentifier = clientIdentifier
        self.username = username
        self.password = password
        self.keepAlive = keepAlive
        self.cleanStart = cleanStart
        self.sessionExpiry = sessionExpiry
        self.version = version
        self.backoff = backoff
        self.maxInflight = maxInflight
        self.statusTopic = statusTopic
        self.subscriptions = subscriptions
        self.readBatch = readBatch
        self.connectTimeout = connectTimeout
        self.shutdownTimeout = shutdownTimeout
    }

    /// The preferred endpoint.
    public var preferred: UplinkEndpoint { endpoints.first ?? UplinkEndpoint(host: "", port: 1883) }
}
