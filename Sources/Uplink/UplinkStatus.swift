/// The state of the link to the cloud broker.
public enum UplinkLinkState: String, Sendable, Hashable {
    /// Opening TCP (and TLS), sending CONNECT, waiting for CONNACK.
    case connecting
    /// CONNACK accepted: publishing and receiving.
    case connected
    /// Waiting out a reconnect delay after a failed attempt or a lost link.
    case backingOff = "backing-off"
    /// Not running (before `run()` and after it returned).
    case stopped
}

/// A snapshot of the uplink for status pages and metrics.
public struct UplinkStatus: Sendable, Hashable {
    /// The link state.
    public var state: UplinkLinkState
    /// How many reconnect attempts followed a failed attempt or a lost link.
    public var reconnects: Int
    /// The endpoint in use, or being tried while not connected (`host:port`); nil before the first attempt.
    public var endpoint: String?
    /// Connections accepted by another endpoint than the previous connection's (a failback to the
    /// preferred endpoint is not counted).
    public var failovers: Int
    /// What made the last attempt fail or the last link drop, as a sentence naming the host; cleared
    /// when a connection is accepted (the log keeps the history).
    public var lastError: String?
    /// QoS 1 publishes sent and awaiting PUBACK.
    public var inFlight: Int
    /// Records published (first transmissions; resends are counted in `resent`).
    public var published: Int
    /// Records resent after a reconnect.
    public var resent: Int
    /// Records the cloud acknowledged (PUBACK), including those it acknowledged with an error.
    public var acknowledged: Int
    /// Records the cloud refused for good (MQTT 5 reason code 0x80 and above, not transient): dead-lettered.
    public var rejected: Int
    /// Records given up without being delivered: expired, or impossible to encode (one that can never
    /// fit the endpoint moves to the dead-letter table instead, counted in `limits`).
    public var dropped: Int
    /// Messages from remote subscriptions published into the local broker.
    public var received: Int
    /// Bytes written to the cloud broker (MQTT bytes, before TLS).
    public var bytesSent: Int
    /// Bytes read from the cloud broker (MQTT bytes, after TLS).
    public var bytesReceived: Int
    /// Records acknowledged per second over roughly the last second.
    public var drainRatePerSecond: Double
    /// When the current connection was accepted (nanoseconds of the service's clock); nil when not connected.
    public var connectedSince: UInt64?
    /// Refusals by reason code, the throttle's window and time, and a Maximum QoS 0 cloud.
    public var refusals = UplinkRefusalStatus()
    /// QoS 2 flows the cloud completed (PUBCOMP), including releases of identifiers left open earlier.
    public var exactlyOnceCompleted = 0
    /// Records dead-lettered by the operator's limits, and waits for the publish rate.
    public var limits = UplinkLimitStatus()

    /// Creates a status.
    public init(
        state: UplinkLinkState = .stopped,
        reconnects: Int = 0,
        endpoint: String? = nil,
        failovers: Int = 0,
        lastError: String? = nil,
        inFlight: Int = 0,
        published: Int = 0,
        resent: Int = 0,
        acknowledged: Int = 0,
        rejected: Int = 0,
        dropped: Int = 0,
        received: Int = 0,
        bytesSent: Int = 0,
        bytesReceived: Int = 0,
        drainRatePerSecond: Double = 0,
        connectedSince: UInt64? = nil
    ) {
        self.state = state
        self.reconnects = reconnects
        self.endpoint = endpoint
        self.failovers = failovers
        self.lastError = lastError
        self.inFlight = inFlight
        self.published = published
        self.resent = resent
        self.acknowledged = acknowledged
        self.rejected = rejected
        self.dropped = dropped
        self.received = received
        self.bytesSent = bytesSent
        self.bytesReceived = bytesReceived
        self.drainRatePerSecond = drainRatePerSecond
        self.connectedSince = connectedSince
    }
}
