public import NIOCore
public import WharfCore

/// A subscription of a persistent session, as the client requested it.
public struct PersistedSubscription: Sendable, Hashable {
    /// The filter as the client wrote it, including any `$share/{group}/` prefix.
    public var filter: String
    /// The maximum QoS granted.
    public var qos: QoS
    /// MQTT 5 No Local option.
    public var noLocal: Bool
    /// MQTT 5 Retain As Published option.
    public var retainAsPublished: Bool
    /// MQTT 5 Retain Handling option (0, 1 or 2).
    public var retainHandling: UInt8
    /// MQTT 5 subscription identifier.
    public var identifier: UInt32?

    /// Creates a subscription.
    public init(
        filter: String,
        qos: QoS,
        noLocal: Bool = false,
        retainAsPublished: Bool = false,
        retainHandling: UInt8 = 0,
        identifier: UInt32? = nil
    ) {
        self.filter = filter
        self.qos = qos
        self.noLocal = noLocal
        self.retainAsPublished = retainAsPublished
        self.retainHandling = retainHandling
        self.identifier = identifier
    }
}

/// A QoS 1/2 message queued for, or in flight to, a persistent session.
public struct PersistedMessage: Sendable {
    /// Assigned by the store when inserted (`insertMessage` returns it); ignored on insert.
    public var id: Int64
    /// The topic it was published to.
    public var topic: String
    /// The payload.
    public var payload: ByteBuffer
    /// The QoS it is delivered with.
    public var qos: QoS
    /// The retain flag it is delivered with.
    public var retain: Bool
    /// MQTT 5 properties.
    public var properties: MessageProperties
    /// Wall-clock milliseconds when the broker received it.
    public var receivedAt: Int64
    /// The packet identifier once it has been sent.
    public var packetIdentifier: UInt16?
    /// 0 queued, 1 sent and awaiting PUBACK/PUBREC, 2 PUBREL sent.
    public var phase: UInt8
    /// Identifiers of the subscriptions it matched.
    public var subscriptionIdentifiers: [UInt32]

    /// Creates a message.
    public init(
        id: Int64 = 0,
        topic: String,
        payload: ByteBuffer,
        qos: QoS,
        retain: Bool = false,
        properties: MessageProperties = MessageProperties(),
        receivedAt: Int64,
        packetIdentifier: UInt16? = nil,
        phase: UInt8 = 0,
        subscriptionIdentifiers: [UInt32] = []
    ) {
        self.id = id
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
        self.receivedAt = receivedAt
        self.packetIdentifier = packetIdentifier
        self.phase = phase
        self.subscriptionIdentifiers = subscriptionIdentifiers
    }
}

/// A persistent session with its subscriptions and queued messages.
public struct PersistedSession: Sendable {
    /// The MQTT client identifier.
    public var clientIdentifier: String
    /// Session expiry interval in seconds (`UInt32.max` never expires).
    public var expiryInterval: UInt32
    /// Wall-clock milliseconds of the disconnect; `nil` while it was connected.
    public var disconnectedAt: Int64?
    /// Who the session belongs to.
    public var owner: SessionOwner
    /// Its subscriptions.
    public var subscriptions: [PersistedSubscription]
    /// Its messages in the order they were inserted.
    public var messages: [PersistedMessage]
    /// Inbound QoS 2 packet identifiers that got PUBREC and wait for PUBREL.
    public var inboundQoS2: [UInt16]

    /// Creates a session.
    public init(
        clientIdentifier: String,
        expiryInterval: UInt32,
        disconnectedAt: Int64?,
        owner: SessionOwner = .unknown,
        subscriptions: [PersistedSubscription] = [],
        messages: [PersistedMessage] = [],
        inboundQoS2: [UInt16] = []
    ) {
        self.clientIdentifier = clientIdentifier
        self.expiryInterval = expiryInterval
        self.disconnectedAt = disconnectedAt
        self.owner = owner
        self.subscriptions = subscriptions
        self.messages = messages
        self.inboundQoS2 = inboundQoS2
    }
}

/// A retained message.
public struct PersistedRetained: Sendable {
    /// The topic it is retained on.
    public var topic: String
    /// The payload; empty means "delete", as in MQTT.
    public var payload: ByteBuffer
    /// Its QoS.
    public var qos: QoS
    /// MQTT 5 properties.
    public var properties: MessageProperties
    /// Wall-clock milliseconds when the broker received it.
    public var receivedAt: Int64

    /// Creates a retained message.
    public init(
        topic: String,
        payload: ByteBuffer,
        qos: QoS,
        properties: MessageProperties = MessageProperties(),
        receivedAt: Int64
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.properties = properties
        self.receivedAt = receivedAt
    }
}

/// Everything `BrokerStateStore.loadAll` returns.
struct BrokerSnapshot: Sendable {
    var sessions: [PersistedSession]
    var retained: [PersistedRetained]
}
