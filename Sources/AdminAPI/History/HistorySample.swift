/// The counters one history sample is made from, read from the broker and the queue.
public struct HistoryCounters: Sendable, Equatable {
    /// PUBLISH packets received since start (the broker's counter).
    public var messagesReceived: Int
    /// PUBLISH packets sent since start.
    public var messagesSent: Int
    /// Records in the store-and-forward queue now (0 without uplink).
    public var queueDepth: Int
    /// Their bytes.
    public var queueBytes: Int
    /// MQTT clients connected now.
    public var connectedClients: Int

    /// Creates a reading.
    public init(
        messagesReceived: Int = 0, messagesSent: Int = 0, queueDepth: Int = 0, queueBytes: Int = 0,
        connectedClients: Int = 0
    ) {
        self.messagesReceived = messagesReceived
        self.messagesSent = messagesSent
        self.queueDepth = queueDepth
        self.queueBytes = queueBytes
        self.connectedClients = connectedClients
    }
}

/// One point of `GET /api/v1/history`: rates over the interval before `time`, levels at `time`.
public struct HistorySample: Sendable, Equatable, Encodable {
    /// When it was taken: RFC 3339 UTC with milliseconds.
    public var time: String
    /// PUBLISH packets received per second over the interval that ends here.
    public var messagesInPerSecond: Double
    /// PUBLISH packets sent per second over that interval.
    public var messagesOutPerSecond: Double
    /// Queue depth at `time`.
    public var queueDepth: Int
    /// Queue bytes at `time`.
    public var queueBytes: Int
    /// Clients connected at `time`.
    public var connectedClients: Int

    enum CodingKeys: String, CodingKey {
        case time
        case messagesInPerSecond = "messages_in_per_second"
        case messagesOutPerSecond = "messages_out_per_second"
        case queueDepth = "queue_depth"
        case queueBytes = "queue_bytes"
        case connectedClients = "connected_clients"
    }
}
