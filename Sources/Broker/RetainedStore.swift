import NIOCore
import Synchronization
import WharfCore

/// Retained messages by topic. Subscribing walks every retained topic once; publishing is a
/// dictionary update.
final class RetainedStore: Sendable {
    private let messages = Mutex<[String: Message]>([:])

    init() {}

    /// Stores `message` as the retained message of its topic, or clears it when the payload
    /// is empty (MQTT §3.3.1.3).
    func update(with message: Message) {
        messages.withLock { messages in
            if message.payload.readableBytes == 0 {
                messages.removeValue(forKey: message.topic)
            } else {
                messages[message.topic] = message
            }
        }
    }

    /// The retained messages whose topics `filter` matches and that have not expired.
    func matching(_ filter: String, now: UInt64) -> [Message] {
        messages.withLock { messages in
            var result: [Message] = []
            var expired: [String] = []
            for (topic, message) in messages where TopicFilter.filter(filter, matches: topic) {
                if let interval = message.properties.messageExpiryInterval,
                    now > message.receivedAt, (now - message.receivedAt) / 1_000_000_000 >= UInt64(interval)
                {
                    expired.append(topic)
                    continue
                }
                result.append(message)
            }
            for topic in expired { messages.removeValue(forKey: topic) }
            return result.sorted { $0.topic < $1.topic }
        }
    }

    /// How many retained messages are stored.
    var count: Int { messages.withLock { $0.count } }

    /// Every retained message, for persistence and status.
    var all: [Message] { messages.withLock { Array($0.values) } }
}
