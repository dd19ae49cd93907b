/// An MQTT 5 reason code: the outcome of an operation, carried in acknowledgments and DISCONNECT.
public enum ReasonCode: UInt8, Sendable, Hashable, CaseIterable {
    /// Success (also "Normal disconnection" and "Granted QoS 0").
    case success = 0x00
    /// The subscription is accepted with maximum QoS 1.
    case grantedQoS1 = 0x01
    /// The subscription is accepted with maximum QoS 2.
    case grantedQoS2 = 0x02
    /// The client disconnects but wants its Will Message published.
    case disconnectWithWill = 0x04
    /// The message is accepted but nobody is subscribed to it.
    case noMatchingSubscribers = 0x10
    /// No subscription existed for the filter being unsubscribed.
    case noSubscriptionExisted = 0x11
    /// Continue the authentication exchange with another step.
    case continueAuthentication = 0x18
    /// Start a re-authentication.
    case reAuthenticate = 0x19
    /// The sender does not wish to reveal the reason, or none of the others applies.
    case unspecifiedError = 0x80
    /// The packet could not be parsed.
    case malformedPacket = 0x81
    /// The packet was parsed but violates the protocol.
    case protocolError = 0x82
    /// The packet is valid but this implementation does not accept it.
    case implementationSpecificError = 0x83
    /// The server does not support the requested protocol level.
    case unsupportedProtocolVersion = 0x84
    /// The client identifier is valid UTF-8 but not allowed.
    case clientIdentifierNotValid = 0x85
    /// The user name or password was not accepted.
    case badUserNameOrPassword = 0x86
    /// The operation is not authorized.
    case notAuthorized = 0x87
    /// The server is not available.
    case serverUnavailable = 0x88
    /// The server is busy; try again later.
    case serverBusy = 0x89
    /// The client has been banned by an administrator.
    case banned = 0x8A
    /// The server is shutting down.
    case serverShuttingDown = 0x8B
    /// The authentication method is not supported or does not match the current one.
    case badAuthenticationMethod = 0x8C
    /// No packet arrived within 1.5 times the keep-alive interval.
    case keepAliveTimeout = 0x8D
    /// Another connection using the same client identifier has connected.
    case sessionTakenOver = 0x8E
    /// The topic filter is well formed but not accepted.
    case topicFilterInvalid = 0x8F
    /// The topic name is well formed but not accepted.
    case topicNameInvalid = 0x90
    /// The packet identifier is already in use.
    case packetIdentifierInUse = 0x91
    /// The packet identifier is not known.
    case packetIdentifierNotFound = 0x92
    /// More QoS 1/2 publications are in flight than Receive Maximum allows.
    case receiveMaximumExceeded = 0x93
    /// The topic alias is zero or above Topic Alias Maximum.
    case topicAliasInvalid = 0x94
    /// The packet exceeds the maximum permissible size.
    case packetTooLarge = 0x95
    /// The received data rate is too high.
    case messageRateTooHigh = 0x96
    /// An implementation or administrative quota has been exceeded.
    case quotaExceeded = 0x97
    /// The connection is closed by an administrator.
    case administrativeAction = 0x98
    /// The payload does not match the Payload Format Indicator.
    case payloadFormatInvalid = 0x99
    /// Retained messages are not supported.
    case retainNotSupported = 0x9A
    /// The requested QoS is not supported.
    case qosNotSupported = 0x9B
    /// The client should temporarily use another server.
    case useAnotherServer = 0x9C
    /// The client should permanently use another server.
    case serverMoved = 0x9D
    /// Shared subscriptions are not supported.
    case sharedSubscriptionsNotSupported = 0x9E
    /// The connection rate limit has been exceeded.
    case connectionRateExceeded = 0x9F
    /// The maximum connection time for this connection has been exceeded.
    case maximumConnectTime = 0xA0
    /// Subscription identifiers are not supported.
    case subscriptionIdentifiersNotSupported = 0xA1
    /// Wildcard subscriptions are not supported.
    case wildcardSubscriptionsNotSupported = 0xA2

    /// "Normal disconnection" in DISCONNECT (the same value as `success`).
    public static let normalDisconnection = ReasonCode.success
    /// "Granted QoS 0" in SUBACK (the same value as `success`).
    public static let grantedQoS0 = ReasonCode.success

    /// Whether the code reports a failure (0x80 and above).
    public var isFailure: Bool { rawValue >= 0x80 }

    /// The MQTT 3.1.1 CONNACK return code closest to this MQTT 5 CONNACK reason code.
    ///
    /// 0 accepted, 1 unacceptable protocol version, 2 identifier rejected, 3 server unavailable,
    /// 4 bad user name or password, 5 not authorized. Failures without a 3.1.1 counterpart map to
    /// 3, the only 3.1.1 code that does not blame the client.
    public var connectReturnCode: UInt8 {
        switch self {
        case .success: return 0
        case .unsupportedProtocolVersion: return 1
        case .clientIdentifierNotValid: return 2
        case .badUserNameOrPassword, .badAuthenticationMethod: return 4
        case .notAuthorized, .banned: return 5
        default: return 3
        }
    }

    /// The MQTT 5 reason code for an MQTT 3.1.1 CONNACK return code; nil for the reserved values 6...255.
    public init?(connectReturnCode: UInt8) {
        switch connectReturnCode {
        case 0: self = .success
        case 1: self = .unsupportedProtocolVersion
        case 2: self = .clientIdentifierNotValid
        case 3: self = .serverUnavailable
        case 4: self = .badUserNameOrPassword
        case 5: self = .notAuthorized
        default: return nil
        }
    }
}

extension ReasonCode {
    /// Whether MQTT 5 allows this code in a CONNACK.
    static func isValidConnAck(_ raw: UInt8) -> Bool {
        switch raw {
        case 0x00, 0x80...0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99...0x9D, 0x9F: return true
        default: return false
        }
    }

    /// Whether MQTT 5 allows this code in a PUBACK or PUBREC.
    var isValidPubAck: Bool {
        switch self {
        case .success, .noMatchingSubscribers, .unspecifiedError, .implementationSpecificError, .notAuthorized,
            .topicNameInvalid, .packetIdentifierInUse, .quotaExceeded, .payloadFormatInvalid:
            return true
        default: return false
        }
    }

    /// Whether MQTT 5 allows this code in a PUBREL or PUBCOMP.
    var isValidPubRel: Bool { self == .success || self == .packetIdentifierNotFound }

    /// Whether MQTT 5 allows this code in a SUBACK.
    static func isValidSubAck(_ raw: UInt8) -> Bool {
        switch raw {
        case 0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2: return true
        default: return false
        }
    }

    /// Whether MQTT 5 allows this code in an UNSUBACK.
    var isValidUnsubAck: Bool {
        switch self {
        case .success, .noSubscriptionExisted, .unspecifiedError, .implementationSpecificError, .notAuthorized,
            .topicFilterInvalid, .packetIdentifierInUse:
            return true
        default: return false
        }
    }

    /// Whether MQTT 5 allows this code in a DISCONNECT.
    var isValidDisconnect: Bool {
        switch self {
        case .success, .disconnectWithWill: return true
        case .grantedQoS1, .grantedQoS2, .noMatchingSubscribers, .noSubscriptionExisted, .continueAuthentication,
            .reAuthenticate, .unsupportedProtocolVersion, .clientIdentifierNotValid, .badUserNameOrPassword,
            .serverUnavailable, .banned, .badAuthenticationMethod, .packetIdentifierInUse, .packetIdentifierNotFound:
            return false
        default: return true
        }
    }

    /// Whether MQTT 5 allows this code in an AUTH.
    var isValidAuth: Bool { self == .success || self == .continueAuthentication || self == .reAuthenticate }
}
