/// What the cloud refused and how the uplink slowed down for it, for status pages and metrics.
public struct UplinkRefusalStatus: Sendable, Hashable {
    /// Records refused as transient (kept and sent again), by PUBACK reason code.
    public var transient: [UInt8: Int] = [:]
    /// Records refused as permanent (moved to the dead-letter table), by PUBACK reason code.
    public var permanent: [UInt8: Int] = [:]
    /// DISCONNECTs from the cloud with a transient reason code, by reason code.
    public var transientDisconnects: [UInt8: Int] = [:]
    /// The current limit on records awaiting PUBACK set by the throttle (the connection may allow fewer).
    public var window: Int = 0
    /// The window when nothing is refused.
    public var maxWindow: Int = 0
    /// Pauses the throttle began after a transient refusal.
    public var pauses: Int = 0
    /// Seconds spent paused by the throttle in total.
    public var throttledSeconds: Double = 0
    /// Whether QoS 1 records wait because the cloud's CONNACK says Maximum QoS 0 (a configuration error).
    public var heldByMaximumQoS: Bool = false

    /// Creates an empty status.
    public init() {}
}
