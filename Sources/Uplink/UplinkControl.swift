import Synchronization
import WharfCore

/// The gateway's own conversation with the cloud over the uplink (remote configuration), kept apart
/// from the forward rules and the remote subscriptions: what arrives on `subscriptions` goes to
/// `onMessage` and never into the local broker, and the retained messages set here are published
/// at QoS 1 as soon as they change and again after every reconnect, so the cloud always ends up
/// with the latest one even when it changed while the link was down.
public final class UplinkControl: Sendable {
    /// The cloud topic filters subscribed to at QoS 1 on every connection.
    public let subscriptions: [String]
    /// Called with each message that arrives on `subscriptions` (topic, payload); must not block.
    let onMessage: @Sendable (String, [UInt8]) -> Void
    /// Called with the endpoint (`host:port`) once a connection is up and subscribed, with nil when it is lost.
    let onConnection: @Sendable (String?) -> Void
    /// The retained messages, and the topics not yet published on the current connection.
    private let retained = Mutex<(messages: [String: [UInt8]], unpublished: Set<String>)>(([:], []))
    /// Signalled when a retained message changes.
    let changed = AsyncSignal()

    /// Creates the control channel.
    public init(
        subscriptions: [String],
        onMessage: @escaping @Sendable (String, [UInt8]) -> Void,
        onConnection: @escaping @Sendable (String?) -> Void
    ) {
        self.subscriptions = subscriptions
        self.onMessage = onMessage
        self.onConnection = onConnection
    }

    /// Sets the retained message of `topic`: published now if the uplink is connected, and again
    /// after every reconnect.
    public func setRetained(topic: String, payload: [UInt8]) {
        retained.withLock { state in
            state.messages[topic] = payload
            state.unpublished.insert(topic)
        }
        changed.signal()
    }

    /// The retained message of `topic`, if one is set.
    public func retainedMessage(topic: String) -> [UInt8]? {
        retained.withLock { $0.messages[topic] }
    }

    /// Marks every retained message unpublished: a new connection starts.
    func connectionStarted() {
        retained.withLock { $0.unpublished = Set($0.messages.keys) }
    }

    /// The next retained message to publish on this connection, taken off the unpublished set.
    func takeUnpublished() -> (topic: String, payload: [UInt8])? {
        retained.withLock { state in
            guard let topic = state.unpublished.min(), let payload = state.messages[topic] else { return nil }
            state.unpublished.remove(topic)
            return (topic, payload)
        }
    }

    /// Puts `topic` back for a later attempt (the window was full or the write failed).
    func putBack(_ topic: String) {
        _ = retained.withLock { $0.unpublished.insert(topic) }
    }

    /// Whether `topic` is one of the control subscriptions (exact topics or filters).
    func matches(_ topic: String) -> Bool {
        subscriptions.contains { TopicFilter.filter($0, matches: topic) }
    }
}
