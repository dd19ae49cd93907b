/// What the operator's limits for the endpoints (`uplink.limits`) did, for status pages and metrics.
public struct UplinkLimitStatus: Sendable, Hashable {
    /// Records moved to the dead-letter table by the uplink itself, never sent, by the limit they
    /// broke: `max_payload_bytes`, `max_topic_levels`, `maximum_packet_size` (the server's),
    /// `topic_name` (not a valid MQTT topic name).
    public var deadLettered: [String: Int] = [:]
    /// The same records by the reason code stored with them (0x95, 0x90).
    public var deadLetteredByReason: [UInt8: Int] = [:]
    /// How often sending waited for `max_publish_rate` while records were ready.
    public var rateWaits: Int = 0
    /// The `max_publish_rate` of the endpoint in use; nil when it has none or while not connected.
    public var publishRate: Double?

    /// Creates an empty status.
    public init() {}

    /// Records moved to the dead-letter table by the uplink itself, in total.
    public var deadLetteredTotal: Int { deadLettered.values.reduce(0, +) }
}
