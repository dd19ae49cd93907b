import MQTTCodec
import WharfCore

/// One subscription of a session, as stored in the session and in the router's trie.
struct SessionSubscription: Sendable {
    /// The filter without any `$share/group/` prefix.
    var filter: String
    /// The share group for `$share/group/filter`, nil for an ordinary subscription.
    var shareGroup: String?
    var options: SubscriptionOptions
    /// MQTT 5 Subscription Identifier, if the client gave one.
    var identifier: UInt32?

    /// The filter as the client wrote it (the session's key for it).
    var fullFilter: String {
        if let shareGroup { return "$share/\(shareGroup)/\(filter)" }
        return filter
    }
}

/// An in-process subscriber (an adapter, the uplink).
struct LocalSubscriber: Sendable {
    var identifier: UInt64
    var qos: QoS
    /// Who subscribed: each delivery is checked against what it may read.
    var principal: Principal
    var handler: @Sendable (Message) -> Void
}

/// Who sits behind an entry of the router's trie.
enum SubscriberKey: Hashable, Sendable {
    case session(String)
    case local(UInt64)
    case shared(group: String, clientIdentifier: String)
    case durable(String)
}

/// The value stored in the router's trie for a subscriber.
enum SubscriberEntry: Sendable {
    case session(Session, SessionSubscription)
    case local(LocalSubscriber)
    case durable(DurableRoute)
}
