import NIOCore
import WharfCore

/// One line from the host to a plugin.
public enum HostMessage: Sendable {
    /// The first line: what the host offers.
    case initialize(InitMessage)
    /// A publish with this id was accepted.
    case ack(MessageID)
    /// A publish with this id was refused; `reason` is one of the protocol's reasons.
    case nack(MessageID, reason: String, message: String)
    /// A message from one of the plugin's subscriptions.
    case command(CommandMessage)
    /// A health ping.
    case healthPing
    /// Finish and exit 0 within the grace period.
    case shutdown(graceMilliseconds: Int)
}

/// `init`: the host's offer.
public struct InitMessage: Sendable {
    /// The protocol versions the host speaks.
    public var protocolRange: ClosedRange<Int>
    /// The host's capability flags.
    public var capabilities: [String]
    /// The adapter's name (the plugin's principal is `plugin:NAME`).
    public var name: String
    /// The adapter's `config:` section.
    public var config: PluginJSON
    /// The most unanswered QoS 1/2 publishes allowed.
    public var credit: Int
    /// The longest line either side may write, without its newline.
    public var maxLineBytes: Int
    /// How often the host pings.
    public var healthIntervalMilliseconds: Int
    /// The wharfd version.
    public var wharfVersion: String

    /// The capabilities of protocol version 1.
    public static let capabilitiesV1 = ["credit", "commands", "health", "log"]

    /// Creates an init message.
    public init(
        protocolRange: ClosedRange<Int> = PluginProtocolVersion.supported,
        capabilities: [String] = InitMessage.capabilitiesV1,
        name: String,
        config: PluginJSON = .object([]),
        credit: Int = 64,
        maxLineBytes: Int = 1_048_576,
        healthIntervalMilliseconds: Int = 10_000,
        wharfVersion: String
    ) {
        self.protocolRange = protocolRange
        self.capabilities = capabilities
        self.name = name
        self.config = config
        self.credit = credit
        self.maxLineBytes = maxLineBytes
        self.healthIntervalMilliseconds = healthIntervalMilliseconds
        self.wharfVersion = wharfVersion
    }
}

/// `command`: a message delivered on one of the plugin's subscriptions.
public struct CommandMessage: Sendable {
    /// The message's topic.
    public var topic: String
    /// The payload bytes.
    public var payload: ByteBuffer
    /// The QoS it is delivered with.
    public var qos: QoS
    /// The retain flag as delivered.
    public var retain: Bool
    /// MQTT 5 properties (response topic, correlation data...).
    public var properties: MessageProperties

    /// Creates a command.
    public init(
        topic: String,
        payload: ByteBuffer,
        qos: QoS = .atMostOnce,
        retain: Bool = false,
        properties: MessageProperties = MessageProperties()
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
    }
}
