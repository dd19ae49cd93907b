import NIOCore
import Synchronization
import WharfCore

/// Retained messages by topic, in a ``RetainedTrie``: a SUBSCRIBE finds what its filter matches
/// without looking at the other retained topics. Bounded in count and bytes.
final class RetainedStore: Sendable {
    private struct State: ~Copyable {
        var trie = RetainedTrie<Message>()
        /// Topic and payload bytes of the stored messages.
        var bytes = 0
    }

    /// What ``update(with:persist:)`` did.
    enum Update: Equatable {
        /// Stored, replaced or cleared.
        case applied
        /// Not kept: `max_retained_messages` topics are retained already.
        case countLimitReached
        /// Not kept: it would take the retained messages beyond `max_retained_bytes`.
        case byteLimitReached
    }

    private let state = Mutex(State())
    /// The most retained topics, 0 for no limit.
    let maxMessages: Int
    /// The most bytes of retained topics and payloads, 0 for no limit.
    let maxBytes: Int

    init(maxMessages: Int = 0, maxBytes: Int = 0) {
        self.maxMessages = maxMessages
        self.maxBytes = maxBytes
    }

    /// Stores `message` as the retained message of its topic, or clears it when the payload is
    /// empty (MQTT §3.3.1.3), unless that would exceed a limit (the broker's own `$SYS` messages
    /// are exempt). `persist` runs under the store's lock when the update applies, so that
    /// concurrent publishers write to disk in the order their messages replaced each other here.
    func update(with message: Message, exempt: Bool = false, persist: (Message) -> Void) -> Update {
        state.withLock { state in
            let size = Self.size(of: message)
            if message.payload.readableBytes == 0 {
                if let removed = state.trie.remove(message.topic) { state.bytes -= Self.size(of: removed) }
                persist(message)
                return .applied
            }
            let previous = state.trie.value(for: message.topic)
            if !exempt {
                if previous == nil, maxMessages > 0, state.trie.count >= maxMessages { return .countLimitReached }
                let bytes = state.bytes - (previous.map(Self.size) ?? 0) + size
                if maxBytes > 0, bytes > maxBytes { return .byteLimitReached }
            }
            state.trie.set(message, for: message.topic)
            state.bytes += size - (previous.map(Self.size) ?? 0)
            persist(message)
            return .applied
        }
    }

    /// Puts back a message loaded from the store, within the limits.
    func restore(_ message: Message) -> Update {
        update(with: message) { _ in }
    }

    /// The retained messages whose topics `filter` matches and that have not expired, in no
    /// particular order; expired ones are removed on the way.
    func matching(_ filter: String, now: UInt64) -> [Message] {
        state.withLock { state in
            var result: [Message] = []
            var expired: [String] = []
            state.trie.forEachMatch(filter) { topic, message in
                if let interval = message.properties.messageExpiryInterval,
                    now > message.receivedAt, (now - message.receivedAt) / 1_000_000_000 >= UInt64(interval)
                {
                    expired.append(topic)
                } else {
                    result.append(message)
                }
            }
            for topic in expired {
                if let removed = state.trie.remove(topic) { state.bytes -= Self.size(of: removed) }
            }
            return result
        }
    }

    /// How many retained messages are stored.
    var count: Int { state.withLock { $0.trie.count } }

    /// Topic and payload bytes of the retained messages.
    var bytes: Int { state.withLock { $0.bytes } }

    /// Every retained message, for persistence and status.
    var all: [Message] {
        state.withLock { state in
            var messages: [Message] = []
            state.trie.forEach { _, message in messages.append(message) }
            return messages
        }
    }

    private static func size(of message: Message) -> Int {
        message.topic.utf8.count + message.payload.readableBytes
    }
}
