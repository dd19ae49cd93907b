public import NIOCore
public import WharfCore

/// One queued record to publish to the cloud broker.
public struct UplinkItem: Sendable {
    /// The queue's sequence number: increasing in append order, positive, never reused.
    public var sequence: Int64
    /// The remote topic (uplink rules have already mapped the local one).
    public var topic: String
    /// The payload bytes.
    public var payload: ByteBuffer
    /// The QoS asked for: 0 is sent at most once; 1 is kept until PUBACK; 2 is sent at QoS 2 where the
    /// server grants it (kept until PUBREC) and at QoS 1 otherwise.
    public var qos: QoS
    /// Whether the cloud broker should retain the message.
    public var retain: Bool
    /// MQTT 5 properties sent with the message.
    public var properties: MessageProperties
    /// When the message expires, in wall-clock milliseconds since 1970; nil never expires.
    ///
    /// An expired record is dropped instead of sent; otherwise MQTT 5 sends the remaining lifetime as
    /// the Message Expiry Interval, replacing any interval in `properties`.
    public var expiresAt: Int64?

    /// Creates an item.
    public init(
        sequence: Int64,
        topic: String,
        payload: ByteBuffer,
        qos: QoS = .atLeastOnce,
        retain: Bool = false,
        properties: MessageProperties = MessageProperties(),
        expiresAt: Int64? = nil
    ) {
        self.sequence = sequence
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
        self.expiresAt = expiresAt
    }
}
