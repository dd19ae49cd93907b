import Logging
import MQTTCodec
import NIOCore
import Synchronization
import WharfConfig

/// Limits on what one client may send: `max_client_id_length` and `max_connect_user_properties`
/// on CONNECT, `max_topic_levels` on will topics, PUBLISH topic names and SUBSCRIBE filters.
/// Each refusal is counted under its key (`wharf_broker_limit_hits_total{limit}`).
extension MQTTConnectionHandler {
    /// Levels of a topic name or filter: one more than its `/` separators.
    static func topicLevels(_ topic: String) -> Int {
        var levels = 1
        for byte in topic.utf8 where byte == UInt8(ascii: "/") { levels += 1 }
        return levels
    }

    /// Whether `topic` has more levels than `max_topic_levels`; counts the refusal when it has.
    func exceedsTopicLevels(_ topic: String) -> Bool {
        let limit = broker.config.maxTopicLevels
        // Fewer bytes than the limit cannot hold more levels: the common case needs no scan.
        guard topic.utf8.count >= limit, Self.topicLevels(topic) > limit else { return false }
        broker.statistics.recordLimitHit(.topicLevels)
        logger.debug(
            "topic refused: more than max_topic_levels (\(limit)) levels",
            metadata: ["mqtt.topic_levels": "\(Self.topicLevels(topic))"])
        return true
    }

    /// Checks a CONNECT against the client limits before any credential is verified, so that a
    /// refused one costs no password hash. Refuses and returns false when one is exceeded:
    /// CONNACK 0x85 (Client Identifier not valid; return code 2) for a long client identifier,
    /// 0x97 (Quota exceeded) for too many User Properties, 0x90 (Topic Name invalid) for a
    /// will topic with too many levels, where MQTT 3.1.1, which has no such return code, is
    /// closed without CONNACK (as Mosquitto does).
    func admitsWithinLimits(_ connect: ConnectPacket, context: ChannelHandlerContext) -> Bool {
        let config = broker.config
        if connect.clientIdentifier.utf8.count > config.maxClientIDLength {
            broker.statistics.recordLimitHit(.clientIdentifierLength)
            logger.info(
                "refusing CONNECT: client identifier longer than max_client_id_length (\(config.maxClientIDLength))",
                metadata: ["mqtt.client_id_length": "\(connect.clientIdentifier.utf8.count)"])
            refuse(.clientIdentifierNotValid, context: context)
            return false
        }
        let userProperties = connect.properties.userProperties.count
        if userProperties > config.maxConnectUserProperties {
            broker.statistics.recordLimitHit(.connectUserProperties)
            logger.info(
                "refusing CONNECT: more than max_connect_user_properties (\(config.maxConnectUserProperties))",
                metadata: ["mqtt.user_properties": "\(userProperties)"])
            refuse(.quotaExceeded, context: context)
            return false
        }
        if let will = connect.will, exceedsTopicLevels(will.topic) {
            logger.info("refusing CONNECT: the will topic has more than max_topic_levels levels")
            if version == .v5 {
                refuse(.topicNameInvalid, context: context)
            } else {
                broker.statistics.protocolErrors.add(1, ordering: .relaxed)
                self.will = nil
                close(context: context)
            }
            return false
        }
        return true
    }
}
