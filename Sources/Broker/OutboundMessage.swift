import MQTTCodec
import NIOCore
import WharfCore

/// A message on its way to one session: the routed message plus what that session's
/// subscription made of it (granted QoS, retain flag, subscription identifiers).
struct OutboundMessage: Sendable {
    var message: Message
    var qos: QoS
    var retain: Bool
    var subscriptionIdentifiers: [UInt32]
    /// When the message entered this session's queue (ns of the broker clock); message
    /// expiry counts from the router's receive time, this only orders drops.
    var enqueuedAt: UInt64
    /// The id of this message in the session store, for persistent sessions.
    var storeID: Int64? = nil

    /// What the message counts against `max_queued_bytes`: its topic and payload.
    var queuedSize: Int { message.topic.utf8.count + message.payload.readableBytes }

    /// The remaining MQTT 5 message expiry in whole seconds at `now`, or nil when the message
    /// has no expiry. A result of 0 means the message has expired.
    func remainingExpiry(at now: UInt64) -> UInt32? {
        guard let interval = message.properties.messageExpiryInterval else { return nil }
        let elapsedSeconds = now > message.receivedAt ? (now - message.receivedAt) / 1_000_000_000 : 0
        return elapsedSeconds >= UInt64(interval) ? 0 : interval - UInt32(elapsedSeconds)
    }

    /// The PUBLISH packet for this message with `packetIdentifier` and the expiry as it
    /// stands at `now`.
    func publishPacket(packetIdentifier: UInt16?, dup: Bool, now: UInt64) -> PublishPacket {
        var properties = MQTTProperties()
        properties.messageProperties = message.properties
        if let remaining = remainingExpiry(at: now) {
            properties.messageExpiryInterval = remaining
        }
        properties.subscriptionIdentifiers = subscriptionIdentifiers
        return PublishPacket(
            topic: message.topic,
            payload: message.payload,
            qos: qos,
            retain: retain,
            dup: dup,
            packetIdentifier: packetIdentifier,
            properties: properties
        )
    }
}

/// Why a message meant for a session was not delivered; each reason is counted.
enum DropReason: String, Sendable, CaseIterable {
    /// The session's queue held `max_queued_messages` already.
    case queueFull = "queue-full"
    /// The message's MQTT 5 expiry passed while it waited.
    case expired
    /// The encoded PUBLISH exceeds the client's Maximum Packet Size.
    case tooLargeForClient = "too-large-for-client"
    /// QoS 0 for a session with no connection (not queued, as Mosquitto does by default).
    case offlineQoS0 = "offline-qos0"
    /// Queued before the client lost read access to its topic (an ACL reload, or a session
    /// resumed by a client the ACL treats differently).
    case notAuthorized = "not-authorized"
    /// QoS 0 for a connected client that does not read what is written to it
    /// (`max_outbound_bytes` wait unwritten).
    case slowConsumer = "slow-consumer"
}
