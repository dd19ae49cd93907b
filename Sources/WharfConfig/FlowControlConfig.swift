/// How much one client may make the broker hold or do before it is slowed down: the bounds behind
/// read suppression, slow-consumer drops, the publish rate limit and password checks. The keys sit
/// directly in the `broker:` section.
public struct FlowControlConfig: Sendable, Equatable {
    /// Bytes waiting to be written to one client before it counts as slow: QoS 0 messages for it
    /// are dropped, QoS 1/2 wait in its queue and nothing is read from it until half has drained
    /// (`max_outbound_bytes`).
    public var maxOutboundBytes: Int
    /// PUBACK/PUBREC one client waits for while its messages are written to the store; when
    /// reached, nothing more is read from it until they drain (`max_pending_acks`).
    public var maxPendingAcks: Int
    /// Bytes of one client's messages waiting to be written to the store; when reached, nothing
    /// more is read from it until they drain (`max_pending_store_bytes`).
    public var maxPendingStoreBytes: Int
    /// PUBLISH packets per second one client may send, 0 for no limit (`max_publish_rate`).
    public var maxPublishRate: Int
    /// PUBLISH payload bytes per second one client may send, 0 for no limit (`max_publish_bytes_rate`).
    public var maxPublishBytesRate: Int
    /// Password checks queued or running at once, for all clients (`max_auth_in_flight`).
    public var maxAuthInFlight: Int
    /// Password checks queued or running at once for clients of one IP address
    /// (`max_auth_in_flight_per_address`).
    public var maxAuthInFlightPerAddress: Int

    /// Creates the settings; every default leaves ordinary clients alone.
    public init(
        maxOutboundBytes: Int = 1 << 20,
        maxPendingAcks: Int = 1000,
        maxPendingStoreBytes: Int = 4 << 20,
        maxPublishRate: Int = 0,
        maxPublishBytesRate: Int = 0,
        maxAuthInFlight: Int = 64,
        maxAuthInFlightPerAddress: Int = 8
    ) {
        self.maxOutboundBytes = maxOutboundBytes
        self.maxPendingAcks = maxPendingAcks
        self.maxPendingStoreBytes = maxPendingStoreBytes
        self.maxPublishRate = maxPublishRate
        self.maxPublishBytesRate = maxPublishBytesRate
        self.maxAuthInFlight = maxAuthInFlight
        self.maxAuthInFlightPerAddress = maxAuthInFlightPerAddress
    }

    /// The smallest `max_outbound_bytes` accepted: below it, ordinary bursts would count as slow.
    public static let minimumOutboundBytes = 16 << 10
}

extension FlowControlConfig {
    /// Reads the flow-control keys of the `broker:` section (the caller finishes the section).
    init(reading reader: ConfigReader) {
        let defaults = FlowControlConfig()
        self.init(
            maxOutboundBytes: reader.size(
                "max_outbound_bytes", default: defaults.maxOutboundBytes, in: Self.minimumOutboundBytes...(1 << 30)),
            maxPendingAcks: reader.int("max_pending_acks", default: defaults.maxPendingAcks, in: 1...1_000_000),
            maxPendingStoreBytes: reader.size(
                "max_pending_store_bytes", default: defaults.maxPendingStoreBytes, in: (64 << 10)...(1 << 30)),
            maxPublishRate: reader.int("max_publish_rate", default: defaults.maxPublishRate, in: 0...Int(Int32.max)),
            maxPublishBytesRate: reader.size(
                "max_publish_bytes_rate", default: defaults.maxPublishBytesRate, in: 1024...(1 << 30),
                zeroMeans: "no limit"),
            maxAuthInFlight: reader.int("max_auth_in_flight", default: defaults.maxAuthInFlight, in: 1...100_000),
            maxAuthInFlightPerAddress: reader.int(
                "max_auth_in_flight_per_address", default: defaults.maxAuthInFlightPerAddress, in: 1...100_000)
        )
    }
}
