import NIOCore
import WharfCore

/// A record the uplink will never send to the endpoint in use, and why: it goes to the dead-letter
/// table as if the cloud had refused it, with the MQTT reason code it would have answered.
struct LocalRefusal: Sendable, Hashable {
    /// The limit broken, as a metric label: `max_payload_bytes`, `max_topic_levels`,
    /// `maximum_packet_size` (the server's) or `topic_name` (not a valid MQTT topic name).
    var limit: String
    /// 0x95 (packet too large) for sizes, 0x90 (topic name invalid) for topics.
    var reasonCode: UInt8
    /// What was over which limit of which endpoint, stored as the dead letter's reason string.
    var reasonString: String

    /// Packet too large.
    static let packetTooLarge: UInt8 = 0x95
    /// Topic Name invalid.
    static let topicNameInvalid: UInt8 = 0x90
}

extension InflightWindow {
    /// Why a record is not sent.
    enum Unsendable: Error, Sendable, Hashable {
        /// Given up and deleted (its message expiry passed).
        case drop(DropReason)
        /// Kept in the dead-letter table: it can never be sent to this endpoint.
        case deadLetter(LocalRefusal)
    }

    /// Whether a record breaks the rules of MQTT or the operator's limits for the link's endpoint,
    /// checked before its packet is built: topic name, topic levels, payload size.
    static func refusal(for item: UplinkItem, link: LinkParameters) -> LocalRefusal? {
        if let problem = Topic.validateName(item.topic) {
            return LocalRefusal(
                limit: "topic_name", reasonCode: LocalRefusal.topicNameInvalid,
                reasonString: "topic name invalid (\(explain(problem))) for \(link.endpoint)")
        }
        if let limit = link.limits.maxTopicLevels {
            let levels = TopicFilter.levelCount(item.topic)
            if levels > limit.value {
                return LocalRefusal(
                    limit: "max_topic_levels", reasonCode: LocalRefusal.topicNameInvalid,
                    reasonString: "topic of \(levels) levels above \(limit.keyPath) \(limit.value) of \(link.endpoint)")
            }
        }
        if let limit = link.limits.maxPayloadBytes, item.payload.readableBytes > limit.value {
            return LocalRefusal(
                limit: "max_payload_bytes", reasonCode: LocalRefusal.packetTooLarge,
                reasonString:
                    "payload \(item.payload.readableBytes) bytes above \(limit.keyPath) \(limit.value) of \(link.endpoint)"
            )
        }
        return nil
    }

    /// Why a topic is not a valid MQTT topic name, as a clause.
    private static func explain(_ problem: TopicValidationError) -> String {
        switch problem {
        case .empty: "it is empty"
        case .tooLong: "longer than 65535 bytes"
        case .containsNull: "it contains U+0000"
        case .wildcardInName: "it contains '+' or '#'"
        case .misplacedWildcard, .invalidSharedSubscription: "\(problem)"
        }
    }

    /// A PUBLISH of `size` bytes above the server's Maximum Packet Size.
    static func tooLarge(size: Int, link: LinkParameters) -> LocalRefusal {
        LocalRefusal(
            limit: "maximum_packet_size", reasonCode: LocalRefusal.packetTooLarge,
            reasonString: "PUBLISH of \(size) bytes above the Maximum Packet Size \(link.maximumPacketSize) of "
                + "\(link.endpoint) (its CONNACK)")
    }
}

extension InflightWindow.Batch {
    /// Records a record that is not sent: a drop finishes it (the queue deletes it), a dead letter does not.
    mutating func giveUp(_ sequence: Int64, _ reason: InflightWindow.Unsendable) {
        switch reason {
        case .drop(let reason):
            finished.append(sequence)
            dropped.append((sequence, reason))
        case .deadLetter(let refusal):
            deadLettered.append((sequence, refusal))
        }
    }

    /// Adds what a later operation of the same pump produced.
    mutating func merge(_ other: InflightWindow.Batch) {
        publishes += other.publishes
        finished += other.finished
        dropped += other.dropped
        deadLettered += other.deadLettered
        heldByMaximumQoS = heldByMaximumQoS || other.heldByMaximumQoS
    }
}
