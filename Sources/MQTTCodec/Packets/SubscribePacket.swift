public import WharfCore

/// How a subscription behaves (the options byte of a SUBSCRIBE entry).
public struct SubscriptionOptions: Sendable, Hashable {
    /// The highest QoS the subscriber wants to receive.
    public var qos: QoS
    /// MQTT 5: do not deliver the subscriber's own publications back to it.
    public var noLocal: Bool
    /// MQTT 5: keep the retain flag of forwarded messages as published.
    public var retainAsPublished: Bool
    /// MQTT 5: 0 send retained messages on subscribe, 1 only for a new subscription, 2 never.
    public var retainHandling: UInt8

    /// Creates subscription options.
    public init(
        qos: QoS = .atMostOnce, noLocal: Bool = false, retainAsPublished: Bool = false, retainHandling: UInt8 = 0
    ) {
        self.qos = qos
        self.noLocal = noLocal
        self.retainAsPublished = retainAsPublished
        self.retainHandling = retainHandling
    }
}

/// One entry of a SUBSCRIBE: a topic filter and its options.
public struct TopicSubscription: Sendable, Hashable {
    /// The topic filter, possibly with wildcards or a `$share/` prefix (validated by the broker).
    public var topicFilter: String
    /// The subscription options.
    public var options: SubscriptionOptions

    /// Creates an entry.
    public init(topicFilter: String, options: SubscriptionOptions = SubscriptionOptions()) {
        self.topicFilter = topicFilter
        self.options = options
    }
}

/// SUBSCRIBE: a client's request to add subscriptions.
public struct SubscribePacket: Sendable, Hashable {
    /// The packet identifier echoed in SUBACK.
    public var packetIdentifier: UInt16
    /// The requested subscriptions, at least one.
    public var subscriptions: [TopicSubscription]
    /// MQTT 5 properties (subscription identifier, user properties).
    public var properties: MQTTProperties

    /// Creates a SUBSCRIBE packet.
    public init(
        packetIdentifier: UInt16,
        subscriptions: [TopicSubscription],
        properties: MQTTProperties = MQTTProperties()
    ) {
        self.packetIdentifier = packetIdentifier
        self.subscriptions = subscriptions
        self.properties = properties
    }
}
