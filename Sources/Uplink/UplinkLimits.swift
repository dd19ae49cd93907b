public import WharfCore

/// One limit the operator set for an endpoint, and the configuration key that sets it.
public struct UplinkLimit<Value: Sendable & Hashable>: Sendable, Hashable {
    /// The limit.
    public var value: Value
    /// The key it comes from (`uplink.limits.max_payload_bytes`), named in dead letters and logs.
    public var keyPath: String

    /// Creates a limit.
    public init(_ value: Value, keyPath: String) {
        self.value = value
        self.keyPath = keyPath
    }
}

/// What the operator allows towards one endpoint, because the cloud behind it imposes quotas it may
/// not state in its CONNACK (a managed cloud's payload size, topic depth or publish rate, a 3.1.1
/// broker's maximum QoS). nil is no limit.
public struct UplinkLimits: Sendable, Hashable {
    /// The largest payload sent; a larger record moves to the dead-letter table (0x95).
    public var maxPayloadBytes: UplinkLimit<Int>?
    /// The most topic levels sent; a deeper topic moves to the dead-letter table (0x90).
    public var maxTopicLevels: UplinkLimit<Int>?
    /// The most QoS 1 publishes awaiting PUBACK, below the uplink's own and the server's limits.
    public var maxInflight: UplinkLimit<Int>?
    /// Records sent per second on average.
    public var maxPublishRate: UplinkLimit<Double>?
    /// The highest QoS sent: the link's Maximum QoS is the lower of this and the CONNACK's.
    public var maxQoS: UplinkLimit<QoS>?

    /// Creates limits; nil is no limit.
    public init(
        maxPayloadBytes: UplinkLimit<Int>? = nil,
        maxTopicLevels: UplinkLimit<Int>? = nil,
        maxInflight: UplinkLimit<Int>? = nil,
        maxPublishRate: UplinkLimit<Double>? = nil,
        maxQoS: UplinkLimit<QoS>? = nil
    ) {
        self.maxPayloadBytes = maxPayloadBytes
        self.maxTopicLevels = maxTopicLevels
        self.maxInflight = maxInflight
        self.maxPublishRate = maxPublishRate
        self.maxQoS = maxQoS
    }

    /// The limits as `key=value` pairs for the connection log; `none` when there are none.
    var summary: String {
        var parts: [String] = []
        if let limit = maxPayloadBytes { parts.append("max_payload_bytes=\(limit.value)") }
        if let limit = maxTopicLevels { parts.append("max_topic_levels=\(limit.value)") }
        if let limit = maxInflight { parts.append("max_inflight=\(limit.value)") }
        if let limit = maxPublishRate { parts.append("max_publish_rate=\(limit.value)") }
        if let limit = maxQoS { parts.append("max_qos=\(limit.value.rawValue)") }
        return parts.isEmpty ? "none" : parts.joined(separator: ",")
    }
}
