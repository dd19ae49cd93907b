/// A limit on what one client may send or ask for; every refusal it causes is counted
/// (`wharf_broker_limit_hits_total{limit}`). Each name is its configuration key.
enum BrokerLimit: String, Sendable, CaseIterable {
    /// `max_topic_levels`: a topic name (PUBLISH, will) or filter (SUBSCRIBE) with more levels.
    case topicLevels = "max_topic_levels"
    /// `max_client_id_length`: a longer client identifier in CONNECT.
    case clientIdentifierLength = "max_client_id_length"
    /// `max_connect_user_properties`: more User Properties in an MQTT 5 CONNECT.
    case connectUserProperties = "max_connect_user_properties"
    /// `max_sessions`: a CONNECT that would make one more session than the broker keeps.
    case sessions = "max_sessions"
    /// `max_retained_messages`: a retained message on a new topic when that many are kept
    /// (it is delivered, not retained).
    case retainedMessages = "max_retained_messages"
    /// `max_retained_bytes`: a retained message that would take the retained topics and
    /// payloads beyond it (it is delivered, not retained).
    case retainedBytes = "max_retained_bytes"
    /// `max_subscriptions_per_client`: a SUBSCRIBE filter beyond a session's limit.
    case subscriptions = "max_subscriptions_per_client"
    /// The client's own MQTT 5 Maximum Packet Size: a packet other than PUBLISH that does not
    /// fit it even without its Reason String and User Properties, so it is not sent and the
    /// connection ends (PUBLISH packets that do not fit are counted as dropped messages).
    case clientMaximumPacketSize = "client_maximum_packet_size"
}
