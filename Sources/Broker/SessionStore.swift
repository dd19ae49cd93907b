public import MQTTCodec
public import WharfCore

/// Where the broker keeps what must survive a restart: persistent sessions (expiry > 0), their
/// subscriptions and QoS 1/2 messages, and retained messages. Writes are submitted in order and
/// return at once; those with a completion call it once they are on disk.
public protocol SessionStore: Sendable {
    /// A persistent session began, changed its expiry, or lost its connection (`disconnectedAt`,
    /// wall-clock milliseconds). `owner` is the user name it belongs to (`nil`: anonymous).
    func saveSession(clientIdentifier: String, expiryInterval: UInt32, disconnectedAt: Int64?, owner: String?)
    /// The session ended; its subscriptions, messages and inbound QoS 2 identifiers go with it.
    func deleteSession(clientIdentifier: String)
    /// An inbound QoS 2 message of a persistent session was routed under `packetIdentifier`;
    /// `completion` runs once that is durable (PUBREC waits for it).
    func saveInboundQoS2(
        clientIdentifier: String,
        packetIdentifier: UInt16,
        completion: @escaping @Sendable (DurableOutcome) -> Void
    )
    /// The inbound QoS 2 identifier was released (PUBREL) or its message refused.
    func deleteInboundQoS2(clientIdentifier: String, packetIdentifier: UInt16)
    /// A subscription of a persistent session, keyed by the filter as the client wrote it.
    func saveSubscription(clientIdentifier: String, _ subscription: StoredSubscription)
    func deleteSubscription(clientIdentifier: String, filter: String)
    /// A QoS 1/2 message for a persistent session; returns its id at once.
    func saveMessage(
        clientIdentifier: String,
        _ message: StoredMessage,
        completion: (@Sendable (DurableOutcome) -> Void)?
    ) -> Int64
    /// A QoS 2 message whose PUBREC arrived: after a restart, PUBREL is resent for it.
    func markReleased(clientIdentifier: String, id: Int64, packetIdentifier: UInt16)
    /// A stored QoS 2 message was sent under `packetIdentifier`: after a restart it is resent
    /// with DUP under the same identifier, so that the client's exactly-once state still holds.
    func markSent(clientIdentifier: String, id: Int64, packetIdentifier: UInt16)
    /// The message was acknowledged, expired or dropped.
    func deleteMessage(clientIdentifier: String, id: Int64)
    /// The retained message of a topic (an empty payload clears it).
    func saveRetained(_ message: Message, completion: (@Sendable (DurableOutcome) -> Void)?)
}

/// A subscription as persisted.
public struct StoredSubscription: Sendable, Hashable {
    /// The filter as the client wrote it, including any `$share/group/`.
    public var filter: String
    public var options: SubscriptionOptions
    public var identifier: UInt32?

    /// Creates a record.
    public init(filter: String, options: SubscriptionOptions, identifier: UInt32?) {
        self.filter = filter
        self.options = options
        self.identifier = identifier
    }
}

/// A message waiting for a persistent session, as persisted.
public struct StoredMessage: Sendable {
    /// The id the store gave it (ignored when saving).
    public var id: Int64
    public var message: Message
    /// The QoS the subscription granted.
    public var qos: QoS
    public var retain: Bool
    public var subscriptionIdentifiers: [UInt32]
    /// Wall-clock milliseconds when the broker received it (message expiry counts from here).
    public var receivedAtWall: Int64
    /// Set for QoS 2 messages whose PUBREC arrived (PUBREL is due).
    public var releasedPacketIdentifier: UInt16?
    /// Set for QoS 2 messages sent but not yet acknowledged with PUBREC.
    public var sentPacketIdentifier: UInt16?

    /// Creates a record.
    public init(
        id: Int64 = 0,
        message: Message,
        qos: QoS,
        retain: Bool,
        subscriptionIdentifiers: [UInt32],
        receivedAtWall: Int64,
        releasedPacketIdentifier: UInt16? = nil,
        sentPacketIdentifier: UInt16? = nil
    ) {
        self.id = id
        self.message = message
        self.qos = qos
        self.retain = retain
        self.subscriptionIdentifiers = subscriptionIdentifiers
        self.receivedAtWall = receivedAtWall
        self.releasedPacketIdentifier = releasedPacketIdentifier
        self.sentPacketIdentifier = sentPacketIdentifier
    }
}

/// A persistent session as loaded at start-up.
public struct RestoredSession: Sendable {
    public var clientIdentifier: String
    public var expiryInterval: UInt32
    /// Wall-clock milliseconds of the last disconnect (nil: it was connected when wharfd stopped).
    public var disconnectedAt: Int64?
    /// Who may resume it.
    public var owner: SessionOwner
    public var subscriptions: [StoredSubscription]
    /// In the order they were queued.
    public var messages: [StoredMessage]
    /// Inbound QoS 2 identifiers that got PUBREC and wait for PUBREL.
    public var inboundQoS2: [UInt16]

    /// Creates a record.
    public init(
        clientIdentifier: String,
        expiryInterval: UInt32,
        disconnectedAt: Int64?,
        owner: SessionOwner = .unknown,
        subscriptions: [StoredSubscription],
        messages: [StoredMessage],
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
