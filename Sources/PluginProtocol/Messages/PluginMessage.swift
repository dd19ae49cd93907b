import NIOCore
import WharfCore

/// One line from a plugin, decoded.
public enum PluginMessage: Sendable {
    /// The answer to `init`.
    case ready(ReadyMessage)
    /// A message to route.
    case publish(PluginPublish)
    /// The plugin's health, as an answer to a ping or on a change.
    case health(HealthReport)
    /// A log record for Wharf's log.
    case log(LogRecord)
}

/// `ready`: the plugin's answer to `init`.
public struct ReadyMessage: Sendable {
    /// The protocol version the plugin chose (must lie in init's range).
    public var protocolVersion: Int
    /// The plugin's own name (not the adapter's name).
    public var name: String
    /// The plugin's own version.
    public var version: String
    /// Capability flags the plugin understands; informational in version 1.
    public var capabilities: [String]
    /// The filters the plugin wants commands from.
    public var subscriptions: [SubscriptionRequest]

    /// Creates a ready message.
    public init(
        protocolVersion: Int,
        name: String,
        version: String,
        capabilities: [String] = [],
        subscriptions: [SubscriptionRequest] = []
    ) {
        self.protocolVersion = protocolVersion
        self.name = name
        self.version = version
        self.capabilities = capabilities
        self.subscriptions = subscriptions
    }
}

/// One subscription a plugin asks for in `ready`.
public struct SubscriptionRequest: Sendable, Hashable {
    /// The topic filter (checked by the router, not here).
    public var filter: String
    /// The maximum QoS of the commands (default 0).
    public var qos: QoS

    /// Creates a subscription request.
    public init(filter: String, qos: QoS) {
        self.filter = filter
        self.qos = qos
    }
}

/// `publish`: a message from the plugin.
public struct PluginPublish: Sendable {
    /// The plugin's id, required at QoS 1 and 2.
    public var id: MessageID?
    /// The topic, non-empty (its validity is the router's business).
    public var topic: String
    /// The payload bytes.
    public var payload: ByteBuffer
    /// The QoS (default 0).
    public var qos: QoS
    /// Whether the message is retained (default false).
    public var retain: Bool
    /// MQTT 5 properties.
    public var properties: MessageProperties

    /// Creates a publish.
    public init(
        id: MessageID?,
        topic: String,
        payload: ByteBuffer,
        qos: QoS = .atMostOnce,
        retain: Bool = false,
        properties: MessageProperties = MessageProperties()
    ) {
        self.id = id
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
    }
}

/// `health` from the plugin.
public struct HealthReport: Sendable, Hashable {
    /// The plugin's state.
    public enum Status: String, Sendable {
        /// Working.
        case healthy
        /// Working in part (a device is unreachable...).
        case degraded
        /// Not working.
        case failed
    }

    /// The plugin's state.
    public var status: Status
    /// Why, in words; nil when absent or empty.
    public var message: String?

    /// Creates a health report.
    public init(status: Status, message: String? = nil) {
        self.status = status
        self.message = message
    }
}

/// `log` from the plugin.
public struct LogRecord: Sendable {
    /// The record's level; unknown levels read as `info`.
    public enum Level: String, Sendable {
        /// Debug.
        case debug
        /// Info.
        case info
        /// Notice.
        case notice
        /// Warning.
        case warning
        /// Error.
        case error
    }

    /// The level.
    public var level: Level
    /// The text.
    public var message: String
    /// Structured fields in the order written; values that are not strings as compact JSON.
    public var fields: [(key: String, value: String)]

    /// Creates a log record.
    public init(level: Level, message: String, fields: [(key: String, value: String)] = []) {
        self.level = level
        self.message = message
        self.fields = fields
    }
}
