public import NIOCore
public import WharfCore

/// What the forward queue does when appending would exceed its byte bound.
public enum OverflowPolicy: String, Sendable, CaseIterable {
    /// Delete the oldest records until the new one fits.
    case dropOldest = "drop-oldest"
    /// Refuse the new record with `StoreError.Kind.queueFull`.
    case rejectNew = "reject-new"
}

/// The bounds of the forward queue.
public struct ForwardQueueLimits: Sendable {
    /// Bound on the sum of record sizes (payload, topic, rule and encoded properties).
    public var maxBytes: Int
    /// Records older than this (by `enqueuedAt`) expire; `nil` keeps them until MQTT expiry or removal.
    public var maxAge: Duration?

    /// Creates limits.
    public init(maxBytes: Int, maxAge: Duration? = nil) {
        self.maxBytes = maxBytes
        self.maxAge = maxAge
    }

    /// `maxAge` in milliseconds.
    var maxAgeMilliseconds: Int64? {
        guard let maxAge else { return nil }
        let (seconds, attoseconds) = maxAge.components
        return seconds &* 1000 &+ attoseconds / 1_000_000_000_000_000
    }
}

/// A message to append to the forward queue.
public struct NewForwardRecord: Sendable {
    /// The uplink rule that matched it.
    public var rule: String
    /// The remote topic it goes to.
    public var topic: String
    /// The payload.
    public var payload: ByteBuffer
    /// The QoS to publish with upstream.
    public var qos: QoS
    /// The retain flag to publish with upstream.
    public var retain: Bool
    /// MQTT 5 properties to forward.
    public var properties: MessageProperties
    /// Wall-clock milliseconds when it was enqueued; the TTL counts from here.
    public var enqueuedAt: Int64
    /// Wall-clock milliseconds when its MQTT message expiry runs out; `nil` when it has none.
    public var expiresAt: Int64?

    /// Creates a record.
    public init(
        rule: String,
        topic: String,
        payload: ByteBuffer,
        qos: QoS,
        retain: Bool = false,
        properties: MessageProperties = MessageProperties(),
        enqueuedAt: Int64,
        expiresAt: Int64? = nil
    ) {
        self.rule = rule
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
        self.enqueuedAt = enqueuedAt
        self.expiresAt = expiresAt
    }
}

/// A durable record read back from the forward queue.
public struct ForwardRecord: Sendable {
    /// Position in the queue: strictly increasing in append order, never reused.
    public var sequence: Int64
    /// The uplink rule that matched it.
    public var rule: String
    /// The remote topic it goes to.
    public var topic: String
    /// The payload.
    public var payload: ByteBuffer
    /// The QoS to publish with upstream.
    public var qos: QoS
    /// The retain flag to publish with upstream.
    public var retain: Bool
    /// MQTT 5 properties to forward.
    public var properties: MessageProperties
    /// Wall-clock milliseconds when it was enqueued.
    public var enqueuedAt: Int64
    /// Wall-clock milliseconds when its MQTT message expiry runs out.
    public var expiresAt: Int64?

    /// Creates a record.
    public init(
        sequence: Int64,
        rule: String,
        topic: String,
        payload: ByteBuffer,
        qos: QoS,
        retain: Bool,
        properties: MessageProperties,
        enqueuedAt: Int64,
        expiresAt: Int64?
    ) {
        self.sequence = sequence
        self.rule = rule
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
        self.enqueuedAt = enqueuedAt
        self.expiresAt = expiresAt
    }
}

/// Why the forward queue dropped a message.
public enum ForwardDropReason: String, Sendable, CaseIterable {
    /// The oldest record made room for a new one (drop-oldest at the byte bound).
    case overflowDropOldest = "overflow-drop-oldest"
    /// A new record was refused (reject-new at the byte bound, or larger than the bound itself).
    case overflowRejectNew = "overflow-reject-new"
    /// The record outlived its TTL or its MQTT message expiry.
    case expired
    /// The disk was full: a new record was refused, or with drop-oldest old ones made room.
    case diskFull = "disk-full"
}

/// Counters and gauges of the forward queue, for metrics.
public struct ForwardQueueStatistics: Sendable, Hashable {
    /// Records in the queue.
    public var depth: Int
    /// Sum of their sizes.
    public var bytes: Int
    /// `enqueuedAt` of the head of the queue.
    public var oldestEnqueuedAt: Int64?
    /// Records appended since open.
    public var appended: Int
    /// Records removed after acknowledgement since open.
    public var removed: Int
    /// Transactions committed since open (queue and broker writes share them).
    public var commits: Int
    /// Dropped records by reason since open.
    public var drops: [ForwardDropReason: Int]
    /// Unreadable rows found and deleted since open.
    public var corruptRecords: Int
    /// Operations that failed with a SQLite error since open.
    public var writeErrors: Int
    /// Rows in the dead-letter table.
    public var deadLetters = 0
    /// Bytes of the rows in the dead-letter table (as counted against `DeadLetterLimits.maxBytes`).
    public var deadLetterBytes = 0
    /// Records moved to the dead-letter table since open, by the cloud's reason code.
    public var deadLettered: [UInt8: Int] = [:]
    /// Dead letters deleted since open (oldest first) to keep the table within its bounds.
    public var deadLettersDropped = 0

    /// Creates statistics; all zero by default.
    public init(
        depth: Int = 0,
        bytes: Int = 0,
        oldestEnqueuedAt: Int64? = nil,
        appended: Int = 0,
        removed: Int = 0,
        commits: Int = 0,
        drops: [ForwardDropReason: Int] = [:],
        corruptRecords: Int = 0,
        writeErrors: Int = 0
    ) {
        self.depth = depth
        self.bytes = bytes
        self.oldestEnqueuedAt = oldestEnqueuedAt
        self.appended = appended
        self.removed = removed
        self.commits = commits
        self.drops = drops
        self.corruptRecords = corruptRecords
        self.writeErrors = writeErrors
    }

    /// Drops for `reason`, zero when none.
    public func drops(_ reason: ForwardDropReason) -> Int { drops[reason] ?? 0 }
}
