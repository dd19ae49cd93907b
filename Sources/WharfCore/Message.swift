public import NIOCore

/// One application message as it travels through Wharf: from a device, an adapter or the
/// uplink into the router, and from there to subscribers and uplink rules.
public struct Message: Sendable {
    /// The topic name the message was published to (never contains wildcards).
    public var topic: String
    /// The payload bytes; a `ByteBuffer` so that fan-out shares one allocation.
    public var payload: ByteBuffer
    /// The quality of service the publisher asked for.
    public var qos: QoS
    /// Whether the publisher set the retain flag.
    public var retain: Bool
    /// MQTT 5 properties that travel with the message.
    public var properties: MessageProperties
    /// Who published it: the router checks it against the ACL before routing.
    public var principal: Principal
    /// When the router received it (monotonic, nanoseconds of the broker's clock).
    public var receivedAt: UInt64

    /// Creates a message.
    public init(
        topic: String,
        payload: ByteBuffer,
        qos: QoS = .atMostOnce,
        retain: Bool = false,
        properties: MessageProperties = MessageProperties(),
        principal: Principal,
        receivedAt: UInt64 = 0
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
        self.principal = principal
        self.receivedAt = receivedAt
    }
}

/// The MQTT 5 properties of an application message that are forwarded to subscribers.
public struct MessageProperties: Sendable, Hashable {
    /// 0 = unspecified bytes, 1 = UTF-8 text.
    public var payloadFormatIndicator: UInt8?
    /// Lifetime in seconds, as given by the publisher.
    public var messageExpiryInterval: UInt32?
    /// MIME-like content type of the payload.
    public var contentType: String?
    /// Topic a responder should publish its response to.
    public var responseTopic: String?
    /// Opaque bytes that tie a response to its request.
    public var correlationData: [UInt8]?
    /// Name/value pairs in the order the publisher sent them.
    public var userProperties: [UserProperty]

    /// Creates an empty set of properties.
    public init(
        payloadFormatIndicator: UInt8? = nil,
        messageExpiryInterval: UInt32? = nil,
        contentType: String? = nil,
        responseTopic: String? = nil,
        correlationData: [UInt8]? = nil,
        userProperties: [UserProperty] = []
    ) {
        self.payloadFormatIndicator = payloadFormatIndicator
        self.messageExpiryInterval = messageExpiryInterval
        self.contentType = contentType
        self.responseTopic = responseTopic
        self.correlationData = correlationData
        self.userProperties = userProperties
    }
}

/// An MQTT 5 user property: a UTF-8 name/value pair; names may repeat.
public struct UserProperty: Sendable, Hashable, Codable {
    /// The property's name.
    public var name: String
    /// The property's value.
    public var value: String

    /// Creates a user property.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}
