public import NIOCore
public import WharfCore

/// The message a server publishes on a client's behalf when the client goes away uncleanly.
public struct Will: Sendable, Hashable {
    /// The topic name to publish to.
    public var topic: String
    /// The message payload.
    public var payload: ByteBuffer
    /// The QoS to publish with.
    public var qos: QoS
    /// Whether the message is retained.
    public var retain: Bool
    /// MQTT 5 will properties (payload format, expiry, content type, response topic, correlation
    /// data, will delay, user properties).
    public var properties: MQTTProperties

    /// Creates a will.
    public init(
        topic: String,
        payload: ByteBuffer,
        qos: QoS = .atMostOnce,
        retain: Bool = false,
        properties: MQTTProperties = MQTTProperties()
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
    }
}

/// CONNECT: the first packet a client sends.
public struct ConnectPacket: Sendable, Hashable {
    /// The protocol level the client speaks; it decides how the rest of the connection is coded.
    public var protocolVersion: MQTTProtocolVersion
    /// The client identifier; empty asks the server to assign one (3.1.1 and 5.0; 3.1 requires
    /// 1 to 23 characters, which servers check, not the codec).
    public var clientIdentifier: String
    /// Clean Session (3.1 and 3.1.1) or Clean Start (5.0).
    public var cleanStart: Bool
    /// Keep alive in seconds; 0 disables it.
    public var keepAlive: UInt16
    /// The user name, if any.
    public var username: String?
    /// The password, if any (binary data).
    public var password: [UInt8]?
    /// The will, if any.
    public var will: Will?
    /// MQTT 5 connect properties.
    public var properties: MQTTProperties

    /// Creates a CONNECT packet.
    public init(
        protocolVersion: MQTTProtocolVersion = .v5,
        clientIdentifier: String,
        cleanStart: Bool = true,
        keepAlive: UInt16 = 60,
        username: String? = nil,
        password: [UInt8]? = nil,
        will: Will? = nil,
        properties: MQTTProperties = MQTTProperties()
    ) {
        self.protocolVersion = protocolVersion
        self.clientIdentifier = clientIdentifier
        self.cleanStart = cleanStart
        self.keepAlive = keepAlive
        self.username = username
        self.password = password
        self.will = will
        self.properties = properties
    }
}
