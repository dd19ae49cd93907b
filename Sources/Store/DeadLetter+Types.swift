public import NIOCore
public import WharfCore

/// The bounds of the dead-letter table (`storage.dead_letter`); when a move would exceed one, the
/// oldest dead letters are deleted first and counted in `ForwardQueueStatistics.deadLettersDropped`.
public struct DeadLetterLimits: Sendable, Hashable {
    /// The most rows kept.
    public var maxRows: Int
    /// The most bytes kept (payload, topic, rule and encoded properties, as the queue counts them).
    public var maxBytes: Int

    /// Creates limits; 10,000 rows and 16 MiB by default.
    public init(maxRows: Int = 10_000, maxBytes: Int = 16 << 20) {
        self.maxRows = max(1, maxRows)
        self.maxBytes = max(1, maxBytes)
    }
}

/// A queue record to move to the dead-letter table, with the cloud's refusal.
public struct DeadLetterMove: Sendable, Hashable {
    /// The queue record's sequence.
    public var sequence: Int64
    /// The PUBACK reason code.
    public var reasonCode: UInt8
    /// The PUBACK's Reason String, if any.
    public var reasonString: String?
    /// When the refusal arrived, wall-clock milliseconds since 1970.
    public var refusedAt: Int64

    /// Creates a move.
    public init(sequence: Int64, reasonCode: UInt8, reasonString: String?, refusedAt: Int64) {
        self.sequence = sequence
        self.reasonCode = reasonCode
        self.reasonString = reasonString
        self.refusedAt = refusedAt
    }
}

/// A record in the dead-letter table.
public struct DeadLetterRecord: Sendable {
    /// The row's own id: increasing in the order records were dead-lettered.
    public var id: Int64
    /// The sequence the record had in the forward queue.
    public var sequence: Int64
    /// The uplink rule that matched it.
    public var rule: String
    /// The remote topic it was sent to.
    public var topic: String
    /// The payload.
    public var payload: ByteBuffer
    /// The QoS it was sent with.
    public var qos: QoS
    /// The retain flag it was sent with.
    public var retain: Bool
    /// Its MQTT 5 properties.
    public var properties: MessageProperties
    /// Wall-clock milliseconds when it was enqueued.
    public var enqueuedAt: Int64
    /// The cloud's PUBACK reason code.
    public var reasonCode: UInt8
    /// The cloud's Reason String, if any.
    public var reasonString: String?
    /// Wall-clock milliseconds when the cloud refused it.
    public var refusedAt: Int64
}
