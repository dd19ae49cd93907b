import Synchronization

/// The broker's counters and gauges at one moment, for metrics and status pages.
public struct BrokerSnapshot: Sendable, Hashable {
    /// MQTT clients connected now.
    public var clientsConnected: Int
    /// The most clients connected at once since start.
    public var clientsMaximum: Int
    /// Sessions kept, connected or not.
    public var sessions: Int
    /// Sessions removed because their expiry interval passed.
    public var sessionsExpired: Int
    /// MQTT packets received / sent, of any type.
    public var packetsReceived: Int
    /// MQTT packets sent, of any type.
    public var packetsSent: Int
    /// PUBLISH packets received from clients.
    public var messagesReceived: Int
    /// PUBLISH packets sent to clients.
    public var messagesSent: Int
    /// Payload bytes of PUBLISH packets received.
    public var publishBytesReceived: Int
    /// Payload bytes of PUBLISH packets sent.
    public var publishBytesSent: Int
    /// Bytes read from client sockets.
    public var bytesReceived: Int
    /// Bytes written to client sockets.
    public var bytesSent: Int
    /// Subscriptions of all sessions.
    public var subscriptions: Int
    /// Retained messages.
    public var retained: Int
    /// Connections refused or closed for breaking the protocol.
    public var protocolErrors: Int
    /// Publishes and subscriptions refused by the ACL, a confinement or the `$` rules.
    public var authorizationRefusals: Int
    /// Messages not delivered to a subscriber, by reason (`queue-full`, `expired`, ...).
    public var dropped: [String: Int]
    /// Refusals by the limit that caused them (`max_topic_levels`, ...).
    public var limitHits: [String: Int] = [:]
}

extension MQTTBroker {
    /// Reads the counters behind `$SYS` without publishing anything.
    public func snapshot() -> BrokerSnapshot {
        let s = statistics
        var dropped: [String: Int] = [:]
        for reason in DropReason.allCases {
            dropped[reason.rawValue] = s.dropped(reason)
        }
        return BrokerSnapshot(
            clientsConnected: s.clientsConnected.load(ordering: .relaxed),
            clientsMaximum: s.clientsMaximum.load(ordering: .relaxed),
            sessions: sessionCount,
            sessionsExpired: s.sessionsExpired.load(ordering: .relaxed),
            packetsReceived: s.packetsReceived.load(ordering: .relaxed),
            packetsSent: s.packetsSent.load(ordering: .relaxed),
            messagesReceived: s.publishReceived.load(ordering: .relaxed),
            messagesSent: s.publishSent.load(ordering: .relaxed),
            publishBytesReceived: s.publishBytesReceived.load(ordering: .relaxed),
            publishBytesSent: s.publishBytesSent.load(ordering: .relaxed),
            bytesReceived: s.bytesReceived.load(ordering: .relaxed),
            bytesSent: s.bytesSent.load(ordering: .relaxed),
            subscriptions: router.subscriptionCount,
            retained: router.retained.count,
            protocolErrors: s.protocolErrors.load(ordering: .relaxed),
            authorizationRefusals: s.authorizationRefusals.load(ordering: .relaxed),
            dropped: dropped,
            limitHits: Dictionary(uniqueKeysWithValues: BrokerLimit.allCases.map { ($0.rawValue, s.limitHitCount($0)) })
        )
    }
}
