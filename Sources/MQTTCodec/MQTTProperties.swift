public import WharfCore

/// The properties of an MQTT 5 packet, every one optional; MQTT 3.1.1 packets carry none.
///
/// Stored behind one shared immutable reference, so that the common case (no properties) costs a
/// nil check and copying a packet copies one pointer instead of two dozen fields.
public struct MQTTProperties: Sendable, Hashable {
    /// The properties themselves; `box` is nil exactly when all of them are absent.
    private var box: Box?

    /// Creates an empty set of properties.
    public init() {
        box = nil
    }

    /// Creates a set of properties; all absent by default.
    public init(
        payloadFormatIndicator: UInt8? = nil,
        messageExpiryInterval: UInt32? = nil,
        contentType: String? = nil,
        responseTopic: String? = nil,
        correlationData: [UInt8]? = nil,
        subscriptionIdentifiers: [UInt32] = [],
        sessionExpiryInterval: UInt32? = nil,
        assignedClientIdentifier: String? = nil,
        serverKeepAlive: UInt16? = nil,
        authenticationMethod: String? = nil,
        authenticationData: [UInt8]? = nil,
        requestProblemInformation: UInt8? = nil,
        willDelayInterval: UInt32? = nil,
        requestResponseInformation: UInt8? = nil,
        responseInformation: String? = nil,
        serverReference: String? = nil,
        reasonString: String? = nil,
        receiveMaximum: UInt16? = nil,
        topicAliasMaximum: UInt16? = nil,
        topicAlias: UInt16? = nil,
        maximumQoS: UInt8? = nil,
        retainAvailable: UInt8? = nil,
        userProperties: [UserProperty] = [],
        maximumPacketSize: UInt32? = nil,
        wildcardSubscriptionAvailable: UInt8? = nil,
        subscriptionIdentifiersAvailable: UInt8? = nil,
        sharedSubscriptionAvailable: UInt8? = nil
    ) {
        var fields = Fields()
        fields.payloadFormatIndicator = payloadFormatIndicator
        fields.messageExpiryInterval = messageExpiryInterval
        fields.contentType = contentType
        fields.responseTopic = responseTopic
        fields.correlationData = correlationData
        fields.subscriptionIdentifiers = subscriptionIdentifiers
        fields.sessionExpiryInterval = sessionExpiryInterval
        fields.assignedClientIdentifier = assignedClientIdentifier
        fields.serverKeepAlive = serverKeepAlive
        fields.authenticationMethod = authenticationMethod
        fields.authenticationData = authenticationData
        fields.requestProblemInformation = requestProblemInformation
        fields.willDelayInterval = willDelayInterval
        fields.requestResponseInformation = requestResponseInformation
        fields.responseInformation = responseInformation
        fields.serverReference = serverReference
        fields.reasonString = reasonString
        fields.receiveMaximum = receiveMaximum
        fields.topicAliasMaximum = topicAliasMaximum
        fields.topicAlias = topicAlias
        fields.maximumQoS = maximumQoS
        fields.retainAvailable = retainAvailable
        fields.userProperties = userProperties
        fields.maximumPacketSize = maximumPacketSize
        fields.wildcardSubscriptionAvailable = wildcardSubscriptionAvailable
        fields.subscriptionIdentifiersAvailable = subscriptionIdentifiersAvailable
        fields.sharedSubscriptionAvailable = sharedSubscriptionAvailable
        self.init(fields: fields)
    }

    init(fields: Fields) {
        box = fields.isEmpty ? nil : Box(fields)
    }

    /// The fields, read-only; empty when no property is present.
    var fields: Fields { box?.fields ?? Fields() }

    /// The shared storage, nil when no property is present (read fields through it without copying them all).
    var storage: Box? { box }

    init(storage: Box?) {
        box = storage
    }

    /// Whether no property is present.
    public var isEmpty: Bool { box == nil }

    private mutating func update(_ change: (inout Fields) -> Void) {
        var fields = self.fields
        change(&fields)
        self = MQTTProperties(fields: fields)
    }

    /// Whether both hold the same properties (user properties and subscription identifiers in order).
    public static func == (lhs: MQTTProperties, rhs: MQTTProperties) -> Bool {
        lhs.box === rhs.box || lhs.box?.fields == rhs.box?.fields
    }

    /// Hashes the properties' values.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(box?.fields)
    }

    /// 0 = unspecified bytes, 1 = UTF-8 payload (PUBLISH, Will).
    public var payloadFormatIndicator: UInt8? {
        get { box?.fields.payloadFormatIndicator }
        set { update { $0.payloadFormatIndicator = newValue } }
    }

    /// Lifetime of the message in seconds (PUBLISH, Will).
    public var messageExpiryInterval: UInt32? {
        get { box?.fields.messageExpiryInterval }
        set { update { $0.messageExpiryInterval = newValue } }
    }

    /// MIME-like description of the payload (PUBLISH, Will).
    public var contentType: String? {
        get { box?.fields.contentType }
        set { update { $0.contentType = newValue } }
    }

    /// Topic name for a response message (PUBLISH, Will).
    public var responseTopic: String? {
        get { box?.fields.responseTopic }
        set { update { $0.responseTopic = newValue } }
    }

    /// Ties a response to its request (PUBLISH, Will).
    public var correlationData: [UInt8]? {
        get { box?.fields.correlationData }
        set { update { $0.correlationData = newValue } }
    }

    /// Subscription identifiers: one in SUBSCRIBE, any number in PUBLISH.
    public var subscriptionIdentifiers: [UInt32] {
        get { box?.fields.subscriptionIdentifiers ?? [] }
        set { update { $0.subscriptionIdentifiers = newValue } }
    }

    /// Seconds the session outlives the connection (CONNECT, CONNACK, DISCONNECT).
    public var sessionExpiryInterval: UInt32? {
        get { box?.fields.sessionExpiryInterval }
        set { update { $0.sessionExpiryInterval = newValue } }
    }

    /// Client identifier the server assigned (CONNACK).
    public var assignedClientIdentifier: String? {
        get { box?.fields.assignedClientIdentifier }
        set { update { $0.assignedClientIdentifier = newValue } }
    }

    /// Keep alive the server imposes, in seconds (CONNACK).
    public var serverKeepAlive: UInt16? {
        get { box?.fields.serverKeepAlive }
        set { update { $0.serverKeepAlive = newValue } }
    }

    /// Name of the extended authentication method (CONNECT, CONNACK, AUTH).
    public var authenticationMethod: String? {
        get { box?.fields.authenticationMethod }
        set { update { $0.authenticationMethod = newValue } }
    }

    /// Data of the extended authentication exchange (CONNECT, CONNACK, AUTH).
    public var authenticationData: [UInt8]? {
        get { box?.fields.authenticationData }
        set { update { $0.authenticationData = newValue } }
    }

    /// Whether the client wants reason strings and user properties on failures (CONNECT).
    public var requestProblemInformation: UInt8? {
        get { box?.fields.requestProblemInformation }
        set { update { $0.requestProblemInformation = newValue } }
    }

    /// Seconds to wait before publishing the Will Message (Will).
    public var willDelayInterval: UInt32? {
        get { box?.fields.willDelayInterval }
        set { update { $0.willDelayInterval = newValue } }
    }

    /// Whether the client asks for Response Information (CONNECT).
    public var requestResponseInformation: UInt8? {
        get { box?.fields.requestResponseInformation }
        set { update { $0.requestResponseInformation = newValue } }
    }

    /// Basis for response topics (CONNACK).
    public var responseInformation: String? {
        get { box?.fields.responseInformation }
        set { update { $0.responseInformation = newValue } }
    }

    /// Another server the client may use (CONNACK, DISCONNECT).
    public var serverReference: String? {
        get { box?.fields.serverReference }
        set { update { $0.serverReference = newValue } }
    }

    /// Human-readable diagnostic for the reason code (acknowledgments, DISCONNECT, AUTH).
    public var reasonString: String? {
        get { box?.fields.reasonString }
        set { update { $0.reasonString = newValue } }
    }

    /// How many QoS 1/2 publications the sender accepts concurrently (CONNECT, CONNACK).
    public var receiveMaximum: UInt16? {
        get { box?.fields.receiveMaximum }
        set { update { $0.receiveMaximum = newValue } }
    }

    /// Highest topic alias the sender accepts (CONNECT, CONNACK).
    public var topicAliasMaximum: UInt16? {
        get { box?.fields.topicAliasMaximum }
        set { update { $0.topicAliasMaximum = newValue } }
    }

    /// Topic alias standing for the topic name (PUBLISH).
    public var topicAlias: UInt16? {
        get { box?.fields.topicAlias }
        set { update { $0.topicAlias = newValue } }
    }

    /// Highest QoS the server supports, 0 or 1 (CONNACK).
    public var maximumQoS: UInt8? {
        get { box?.fields.maximumQoS }
        set { update { $0.maximumQoS = newValue } }
    }

    /// Whether the server supports retained messages (CONNACK).
    public var retainAvailable: UInt8? {
        get { box?.fields.retainAvailable }
        set { update { $0.retainAvailable = newValue } }
    }

    /// Name/value pairs in the order they appear; names may repeat (every packet).
    public var userProperties: [UserProperty] {
        get { box?.fields.userProperties ?? [] }
        set { update { $0.userProperties = newValue } }
    }

    /// Largest packet, in bytes, the sender accepts (CONNECT, CONNACK).
    public var maximumPacketSize: UInt32? {
        get { box?.fields.maximumPacketSize }
        set { update { $0.maximumPacketSize = newValue } }
    }

    /// Whether the server supports wildcard subscriptions (CONNACK).
    public var wildcardSubscriptionAvailable: UInt8? {
        get { box?.fields.wildcardSubscriptionAvailable }
        set { update { $0.wildcardSubscriptionAvailable = newValue } }
    }

    /// Whether the server supports subscription identifiers (CONNACK).
    public var subscriptionIdentifiersAvailable: UInt8? {
        get { box?.fields.subscriptionIdentifiersAvailable }
        set { update { $0.subscriptionIdentifiersAvailable = newValue } }
    }

    /// Whether the server supports shared subscriptions (CONNACK).
    public var sharedSubscriptionAvailable: UInt8? {
        get { box?.fields.sharedSubscriptionAvailable }
        set { update { $0.sharedSubscriptionAvailable = newValue } }
    }
}

extension MQTTProperties {
    /// The stored properties, laid out largest first to keep padding small.
    struct Fields: Sendable, Hashable {
        var contentType: String? = nil
        var responseTopic: String? = nil
        var assignedClientIdentifier: String? = nil
        var authenticationMethod: String? = nil
        var responseInformation: String? = nil
        var serverReference: String? = nil
        var reasonString: String? = nil
        var correlationData: [UInt8]? = nil
        var subscriptionIdentifiers: [UInt32] = []
        var authenticationData: [UInt8]? = nil
        var userProperties: [UserProperty] = []
        var messageExpiryInterval: UInt32? = nil
        var sessionExpiryInterval: UInt32? = nil
        var willDelayInterval: UInt32? = nil
        var maximumPacketSize: UInt32? = nil
        var serverKeepAlive: UInt16? = nil
        var receiveMaximum: UInt16? = nil
        var topicAliasMaximum: UInt16? = nil
        var topicAlias: UInt16? = nil
        var payloadFormatIndicator: UInt8? = nil
        var requestProblemInformation: UInt8? = nil
        var requestResponseInformation: UInt8? = nil
        var maximumQoS: UInt8? = nil
        var retainAvailable: UInt8? = nil
        var wildcardSubscriptionAvailable: UInt8? = nil
        var subscriptionIdentifiersAvailable: UInt8? = nil
        var sharedSubscriptionAvailable: UInt8? = nil

        var isEmpty: Bool {
            payloadFormatIndicator == nil
                && messageExpiryInterval == nil
                && contentType == nil
                && responseTopic == nil
                && correlationData == nil
                && subscriptionIdentifiers.isEmpty
                && sessionExpiryInterval == nil
                && assignedClientIdentifier == nil
                && serverKeepAlive == nil
                && authenticationMethod == nil
                && authenticationData == nil
                && requestProblemInformation == nil
                && willDelayInterval == nil
                && requestResponseInformation == nil
                && responseInformation == nil
                && serverReference == nil
                && reasonString == nil
                && receiveMaximum == nil
                && topicAliasMaximum == nil
                && topicAlias == nil
                && maximumQoS == nil
                && retainAvailable == nil
                && userProperties.isEmpty
                && maximumPacketSize == nil
                && wildcardSubscriptionAvailable == nil
                && subscriptionIdentifiersAvailable == nil
                && sharedSubscriptionAvailable == nil
        }
    }

    /// Immutable, hence safely shared between copies and threads.
    final class Box: Sendable {
        let fields: Fields

        init(_ fields: Fields) {
            self.fields = fields
        }
    }
}
