/// The embedded MQTT broker (`broker:` section).
public struct BrokerConfig: Sendable, Equatable {
    /// TCP listeners for MQTT clients; an empty list runs the broker for adapters and the uplink only.
    public var listeners: [ListenerConfig]
    /// Whether clients may connect without a user name (`allow_anonymous`).
    public var allowAnonymous: Bool
    /// Mosquitto-format password file checked at CONNECT, empty for none (`password_file`).
    public var passwordFile: String
    /// Whether a user whose password file entry is the empty password may log in with it
    /// (`allow_empty_passwords`); by default an empty password is always refused.
    public var allowEmptyPasswords: Bool
    /// Mosquitto-format ACL file checked on subscribe, publish and delivery, empty for none (`acl_file`).
    public var aclFile: String
    /// Most concurrent client connections, 0 for no limit (`max_connections`).
    public var maxConnections: Int
    /// Largest MQTT packet accepted, in bytes, 0 for the protocol maximum (`max_packet_size`).
    public var maxPacketSize: Int
    /// Outgoing QoS 1/2 window per client, also announced as MQTT 5 Receive Maximum (`max_inflight_messages`).
    public var maxInflightMessages: Int
    /// Messages queued per session beyond the in-flight window, 0 for no limit; excess is dropped
    /// and counted (`max_queued_messages`).
    public var maxQueuedMessages: Int
    /// Longest keep-alive granted, in seconds; MQTT 5 clients asking for more get Server Keep Alive (`max_keepalive`).
    public var maxKeepAlive: Int
    /// Whether retained messages are supported (`retain_available`).
    public var retainAvailable: Bool
    /// Topic Alias Maximum announced to MQTT 5 clients, 0 to disable aliases (`max_topic_alias`).
    public var maxTopicAlias: Int
    /// Clamp on MQTT 5 session expiry and on the lifetime of 3.1.1 persistent sessions; `nil` for
    /// no clamp (`max_session_expiry`).
    public var maxSessionExpiry: Duration?
    /// How often `$SYS` statistics are published, zero to disable them (`sys_interval`).
    public var sysInterval: Duration
    /// Whether `$share/{group}/{filter}` subscriptions are supported (`shared_subscriptions`).
    public var sharedSubscriptions: Bool
    /// Most levels of a topic name (PUBLISH, will) or filter (SUBSCRIBE) (`max_topic_levels`).
    public var maxTopicLevels: Int
    /// Longest client identifier accepted in CONNECT, in bytes (`max_client_id_length`).
    public var maxClientIDLength: Int
    /// Most User Properties in an MQTT 5 CONNECT (`max_connect_user_properties`).
    public var maxConnectUserProperties: Int

    // Sessions and what they may hold (BrokerConfig+Sessions.swift reads them).

    /// Bytes (topics and payloads) queued per session beyond the in-flight window, 0 for no
    /// limit; excess is dropped and counted (`max_queued_bytes`).
    public var maxQueuedBytes: Int = 8 << 20
    /// Most sessions kept at once, connected or not, 0 for no limit; a CONNECT that would make
    /// one more is refused (`max_sessions`).
    public var maxSessions: Int = 20_000
    /// What a CONNECT gets when its client id belongs to another user's session
    /// (`session_owner_change`).
    public var sessionOwnerChange: SessionOwnerChange = .refuse
    /// Whether a client that gives a user name takes it as its client id, so that no user can
    /// reach another user's sessions (`use_username_as_clientid`, as in Mosquitto).
    public var useUsernameAsClientID = false
    /// Most SUBSCRIBE filters one session holds, 0 for no limit (`max_subscriptions_per_client`).
    public var maxSubscriptionsPerClient = 10_000
    /// Most retained topics kept, 0 for no limit (`max_retained_messages`).
    public var maxRetainedMessages = 100_000
    /// Most bytes of retained topics and payloads kept, 0 for no limit (`max_retained_bytes`).
    public var maxRetainedBytes = 64 << 20
    /// Backpressure, slow consumers, publish rate and password-check bounds (keys in `broker:`).
    public var flowControl: FlowControlConfig

    /// The largest packet size MQTT can express (a 4-byte Remaining Length).
    public static let protocolMaximumPacketSize = 268_435_455
    /// The smallest non-zero `max_packet_size` accepted: enough for a CONNECT with a short client id.
    public static let minimumPacketSize = 64
    /// The shortest `max_client_id_length`: MQTT requires servers to accept 23 bytes.
    public static let minimumClientIDLength = 23
    /// The listener used when the file names none.
    public static let defaultListener = ListenerConfig(name: "default", bind: "127.0.0.1", port: 1883)

    /// Creates the section.
    public init(
        listeners: [ListenerConfig] = [BrokerConfig.defaultListener],
        allowAnonymous: Bool = true,
        passwordFile: String = "",
        allowEmptyPasswords: Bool = false,
        aclFile: String = "",
        maxConnections: Int = 10000,
        maxPacketSize: Int = 1_048_576,
        maxInflightMessages: Int = 20,
        maxQueuedMessages: Int = 1000,
        maxKeepAlive: Int = 65535,
        retainAvailable: Bool = true,
        maxTopicAlias: Int = 10,
        maxSessionExpiry: Duration? = nil,
        sysInterval: Duration = .seconds(10),
        sharedSubscriptions: Bool = true,
        maxTopicLevels: Int = 200,
        maxClientIDLength: Int = 256,
        maxConnectUserProperties: Int = 32,
        flowControl: FlowControlConfig = FlowControlConfig()
    ) {
        self.listeners = listeners
        self.allowAnonymous = allowAnonymous
        self.passwordFile = passwordFile
        self.allowEmptyPasswords = allowEmptyPasswords
        self.aclFile = aclFile
        self.maxConnections = maxConnections
        self.maxPacketSize = maxPacketSize
        self.maxInflightMessages = maxInflightMessages
        self.maxQueuedMessages = maxQueuedMessages
        self.maxKeepAlive = maxKeepAlive
        self.retainAvailable = retainAvailable
        self.maxTopicAlias = maxTopicAlias
        self.maxSessionExpiry = maxSessionExpiry
        self.sysInterval = sysInterval
        self.sharedSubscriptions = sharedSubscriptions
        self.maxTopicLevels = maxTopicLevels
        self.maxClientIDLength = maxClientIDLength
        self.maxConnectUserProperties = maxConnectUserProperties
        self.flowControl = flowControl
    }

    /// `maxPacketSize` with 0 replaced by the protocol maximum.
    public var effectiveMaxPacketSize: Int {
        maxPacketSize == 0 ? Self.protocolMaximumPacketSize : maxPacketSize
    }
}

/// What a listener's connections carry (`broker.listeners[].protocol`).
public enum ListenerTransport: String, Sendable, Equatable, CaseIterable {
    /// MQTT packets straight over the TCP (or TLS) stream.
    case mqtt
    /// MQTT over WebSocket (subprotocol `mqtt`): binary frames carry the MQTT bytes. Mosquitto
    /// spells it `websockets`, which is read as the same.
    case websocket
}

/// What a CONNECT gets when its client id belongs to a session of another user.
public enum SessionOwnerChange: String, Sendable, Equatable, CaseIterable {
    /// CONNACK 0x87 (Not authorized; return code 5 for MQTT 3.1.1); the session and any
    /// connection holding it are left alone.
    case refuse
    /// The other user's session ends and the client starts a new one (Session Present 0).
    case newSession = "new-session"
}

/// One listener for MQTT clients (an element of `broker.listeners`): plain TCP, or TLS with `tls`.
public struct ListenerConfig: Sendable, Equatable {
    /// Name used in logs and metrics; when the file gives none it is `bind:port`.
    public var name: String
    /// Address to listen on: `127.0.0.1` (this machine only), `0.0.0.0` (all IPv4), `::` (all), or a host name.
    public var bind: String
    /// TCP port, 1 to 65535.
    public var port: Int
    /// TLS settings; `nil` for plain TCP.
    public var tls: ListenerTLSConfig?
    /// Whether a client's user name is its certificate's subject CN (needs `tls.require_certificate`).
    public var useIdentityAsUsername: Bool
    /// MQTT straight over TCP (or TLS), or MQTT over WebSocket (`ws`, or `wss` with `tls`).
    public var transport: ListenerTransport

    /// Creates a listener.
    public init(
        name: String,
        bind: String = "127.0.0.1",
        port: Int = 1883,
        tls: ListenerTLSConfig? = nil,
        useIdentityAsUsername: Bool = false,
        transport: ListenerTransport = .mqtt
    ) {
        self.name = name
        self.bind = bind
        self.port = port
        self.tls = tls
        self.useIdentityAsUsername = useIdentityAsUsername
        self.transport = transport
    }

    /// The port a listener takes when the file gives none: 1883 and 8883 (TLS) for MQTT, 8083
    /// and 8084 (TLS) for WebSocket, as EMQX and NanoMQ use.
    public static func defaultPort(transport: ListenerTransport, tls: Bool) -> Int {
        switch transport {
        case .mqtt: tls ? 8883 : 1883
        case .websocket: tls ? 8084 : 8083
        }
    }
}
