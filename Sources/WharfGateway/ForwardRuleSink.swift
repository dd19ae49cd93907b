import Broker
import Logging
import Store
import Uplink
import WharfConfig
import WharfCore

/// One uplink forward rule: maps a local message to its cloud topic and appends it to the
/// durable queue, reporting when it is on disk.
final class ForwardRuleSink: DurableSink {
    let name: String
    private let stripPrefix: String
    private let remotePrefix: String
    private let qos: QoS
    private let policy: OverflowPolicy
    private let queue: ForwardQueue
    private let wallClock: any WallClock
    private let logger: Logger

    init(rule: ForwardRuleConfig, gatewayID: String, queue: ForwardQueue, wallClock: any WallClock, logger: Logger) {
        self.name = rule.name
        self.stripPrefix = rule.stripPrefix
        self.remotePrefix = rule.remotePrefix.replacing("{gateway}", with: gatewayID)
        self.qos = QoS(rawValue: UInt8(clamping: rule.qos)) ?? .atLeastOnce
        self.policy = rule.policy == .rejectNew ? .rejectNew : .dropOldest
        self.queue = queue
        self.wallClock = wallClock
        self.logger = logger
    }

    /// The cloud topic for a local topic: `strip_prefix` removed when present, `remote_prefix` added.
    func remoteTopic(for topic: String) throws(TopicRemapError) -> String {
        let removing = topic.hasPrefix(stripPrefix) ? stripPrefix : ""
        return try TopicRemap(removing: removing, adding: remotePrefix).map(topic)
    }

    func accept(_ message: Message, completion: @escaping @Sendable (DurableOutcome) -> Void) {
        let topic: String
        do {
            topic = try remoteTopic(for: message.topic)
        } catch {
            logger.error(
                "forward rule cannot map topic; message not queued",
                metadata: ["uplink.rule": "\(name)", "mqtt.topic": "\(message.topic)", "error": "\(error)"]
            )
            completion(.failed("forward rule '\(name)': \(error)"))
            return
        }
        let now = wallClock.millisecondsSinceEpoch()
        let record = NewForwardRecord(
            rule: name,
            topic: topic,
            payload: message.payload,
            qos: min(message.qos, qos),
            retain: message.retain,
            properties: message.properties,
            enqueuedAt: now,
            expiresAt: message.properties.messageExpiryInterval.map { now + Int64($0) * 1000 }
        )
        queue.append(record, policy: policy) { result in
            switch result {
            case .success:
                completion(.stored)
            case .failure(let error) where error.kind == .queueFull || error.kind == .backlogFull:
                // Either way the message was refused for lack of room, and the publisher may retry.
                completion(.rejectedQueueFull)
            case .failure(let error):
                completion(.failed(error.description))
            }
        }
    }
}
