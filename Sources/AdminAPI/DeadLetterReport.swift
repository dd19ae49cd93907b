#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The answer to `GET /api/v1/queue/dead-letters`: the dead-letter table's totals and its newest
/// records, newest first.
public struct DeadLetterReport: Encodable, Sendable, Equatable {
    /// Rows in the table (all of them, not only those listed).
    public var count: Int
    /// Bytes in the table, as counted against `storage.dead_letter.max_bytes`.
    public var bytes: Int
    /// The newest records, newest first, at most the `limit` asked for.
    public var deadLetters: [DeadLetterEntry]

    /// Creates a report.
    public init(count: Int, bytes: Int, deadLetters: [DeadLetterEntry]) {
        self.count = count
        self.bytes = bytes
        self.deadLetters = deadLetters
    }
}

/// One record the cloud refused for good, as the admin API shows it.
public struct DeadLetterEntry: Encodable, Sendable, Equatable {
    /// The row's id, increasing in the order records were dead-lettered.
    public var id: Int64
    /// The sequence the record had in the forward queue.
    public var sequence: Int64
    /// The remote topic it was sent to.
    public var topic: String
    /// The cloud's PUBACK reason code.
    public var reasonCode: Int
    /// The code's name (`not-authorized`), `unknown` for a code MQTT 5 does not define.
    public var reason: String
    /// The cloud's Reason String; nil when it sent none.
    public var reasonString: String?
    /// The forward rule that matched it.
    public var rule: String
    /// The QoS it was sent with.
    public var qos: Int
    /// The retain flag it was sent with.
    public var retain: Bool
    /// The payload's size in bytes.
    public var payloadBytes: Int
    /// The payload as text when it is valid UTF-8; nil otherwise.
    public var payload: String?
    /// The payload in base64, whatever it holds.
    public var payloadBase64: String
    /// When it was queued, RFC 3339 UTC with milliseconds.
    public var enqueuedAt: String
    /// When the cloud refused it and it moved to the table, RFC 3339 UTC with milliseconds.
    public var deadAt: String

    /// Creates an entry from a stored record's parts; times are wall-clock milliseconds since 1970.
    public init(
        id: Int64, sequence: Int64, topic: String, reasonCode: UInt8, reason: String, reasonString: String?,
        rule: String, qos: Int, retain: Bool, payload: [UInt8], enqueuedAtMilliseconds: Int64,
        deadAtMilliseconds: Int64
    ) {
        self.id = id
        self.sequence = sequence
        self.topic = topic
        self.reasonCode = Int(reasonCode)
        self.reason = reason
        self.reasonString = reasonString
        self.rule = rule
        self.qos = qos
        self.retain = retain
        self.payloadBytes = payload.count
        self.payload = String(validating: payload, as: UTF8.self)
        self.payloadBase64 = Data(payload).base64EncodedString()
        self.enqueuedAt = RFC3339Time.format(millisecondsSinceEpoch: enqueuedAtMilliseconds)
        self.deadAt = RFC3339Time.format(millisecondsSinceEpoch: deadAtMilliseconds)
    }

    enum CodingKeys: String, CodingKey {
        case id, sequence, topic, reasonCode, reason, reasonString, rule, qos, retain, payloadBytes, payload
        case payloadBase64, enqueuedAt, deadAt
    }

    /// Writes an absent Reason String or a payload that is not text as `null` rather than leaving
    /// the key out, so that every entry has the same keys.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(sequence, forKey: .sequence)
        try container.encode(topic, forKey: .topic)
        try container.encode(reasonCode, forKey: .reasonCode)
        try container.encode(reason, forKey: .reason)
        try container.encode(reasonString, forKey: .reasonString)
        try container.encode(rule, forKey: .rule)
        try container.encode(qos, forKey: .qos)
        try container.encode(retain, forKey: .retain)
        try container.encode(payloadBytes, forKey: .payloadBytes)
        try container.encode(payload, forKey: .payload)
        try container.encode(payloadBase64, forKey: .payloadBase64)
        try container.encode(enqueuedAt, forKey: .enqueuedAt)
        try container.encode(deadAt, forKey: .deadAt)
    }
}

/// The answer to `POST /api/v1/queue/dead-letters/clear`.
public struct DeadLetterClearance: Encodable, Sendable, Equatable {
    /// Dead letters deleted.
    public var cleared: Int

    /// Creates the answer.
    public init(cleared: Int) {
        self.cleared = cleared
    }
}

/// Why the dead-letter table cannot be read or cleared.
public enum DeadLetterAccessError: Error, Sendable, Equatable {
    /// The daemon has no forward queue (the uplink is not enabled), so no table.
    case noQueue
    /// The store failed; its message.
    case storeFailed(String)
}
