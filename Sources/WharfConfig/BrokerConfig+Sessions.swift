/// The keys of `broker:` that bound sessions (and what they may hold: queues, subscriptions,
/// retained messages) and decide who may resume them.
extension BrokerConfig {
    mutating func readSessionLimits(_ reader: ConfigReader, defaults: BrokerConfig) {
        maxQueuedBytes = reader.size(
            "max_queued_bytes", default: defaults.maxQueuedBytes, in: 0...Int(Int32.max), zeroMeans: "no limit")
        maxSessions = reader.int("max_sessions", default: defaults.maxSessions, in: 0...Int.max)
        sessionOwnerChange = reader.choice("session_owner_change", default: defaults.sessionOwnerChange)
        useUsernameAsClientID = reader.bool("use_username_as_clientid", default: defaults.useUsernameAsClientID)
        maxSubscriptionsPerClient = reader.int(
            "max_subscriptions_per_client", default: defaults.maxSubscriptionsPerClient, in: 0...Int.max)
        maxRetainedMessages = reader.int(
            "max_retained_messages", default: defaults.maxRetainedMessages, in: 0...Int.max)
        maxRetainedBytes = reader.size(
            "max_retained_bytes", default: defaults.maxRetainedBytes, in: 0...Int(Int32.max), zeroMeans: "no limit")
    }
}
