/// Observers by topic, with a limit on how many there may be at once; no I/O.
///
/// `Key` identifies one observation (a session and the request's token); re-registering the
/// same key moves it to the new topic, as RFC 7641 §4.1 asks of a repeated Observe GET.
/// `Observed` is what one bus subscription serves: the adapter uses a topic together with the
/// observer's principal, so that the router checks every notification against that principal.
public struct ObserverRegistry<Key: Hashable & Sendable, Observed: Hashable & Sendable>: Sendable {
    /// What `add` did.
    public enum Addition: Sendable, Equatable {
        /// A new observer; `firstForTopic` says the topic had none before (subscribe to it).
        case added(firstForTopic: Bool)
        /// The key was already registered (for this or another topic); `firstForTopic` as above.
        case renewed(firstForTopic: Bool, previousTopicEmptied: Observed?)
        /// The limit is reached; answer 5.03.
        case limitReached
    }

    /// The most observers at once.
    public let limit: Int
    private var topicsByKey: [Key: Observed] = [:]
    private var keysByTopic: [Observed: [Key]] = [:]

    /// An empty registry.
    public init(limit: Int) { self.limit = limit }

    /// How many observations are registered.
    public var count: Int { topicsByKey.count }

    /// The topics that have at least one observer.
    public var topics: Dictionary<Observed, [Key]>.Keys { keysByTopic.keys }

    /// Registers `key` as observing `topic`.
    public mutating func add(_ key: Key, topic: Observed) -> Addition {
        if let previous = topicsByKey[key] {
            if previous == topic { return .renewed(firstForTopic: false, previousTopicEmptied: nil) }
            let emptied = removeFromTopic(key, previous) ? previous : nil
            let first = keysByTopic[topic] == nil
            topicsByKey[key] = topic
            keysByTopic[topic, default: []].append(key)
            return .renewed(firstForTopic: first, previousTopicEmptied: emptied)
        }
        guard topicsByKey.count < limit else { return .limitReached }
        let first = keysByTopic[topic] == nil
        topicsByKey[key] = topic
        keysByTopic[topic, default: []].append(key)
        return .added(firstForTopic: first)
    }

    /// Removes `key`; returns its topic and whether that topic now has no observers.
    @discardableResult
    public mutating func remove(_ key: Key) -> (topic: Observed, topicEmptied: Bool)? {
        guard let topic = topicsByKey.removeValue(forKey: key) else { return nil }
        return (topic, removeFromTopic(key, topic))
    }

    /// Removes every key `predicate` accepts (all observations of a closed session).
    public mutating func removeAll(where predicate: (Key) -> Bool) -> [(key: Key, topic: Observed, topicEmptied: Bool)]
    {
        let doomed = topicsByKey.keys.filter(predicate)
        return doomed.compactMap { key in remove(key).map { (key, $0.topic, $0.topicEmptied) } }
    }

    /// The observers of `topic`, in registration order.
    public func observers(of topic: Observed) -> [Key] { keysByTopic[topic] ?? [] }

    /// The topic `key` observes.
    public func topic(of key: Key) -> Observed? { topicsByKey[key] }

    private mutating func removeFromTopic(_ key: Key, _ topic: Observed) -> Bool {
        guard var keys = keysByTopic[topic] else { return false }
        keys.removeAll { $0 == key }
        if keys.isEmpty {
            keysByTopic[topic] = nil
            return true
        }
        keysByTopic[topic] = keys
        return false
    }
}
