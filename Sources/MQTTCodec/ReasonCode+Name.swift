/// Reason codes as people and scripts read them: the specification's name in lower case with
/// hyphens (`not-authorized` for 0x87), the spelling the admin API and `wharfctl` show.
extension ReasonCode {
    /// The specification's name of the code, such as `quota-exceeded`; codes that share a value
    /// (0x00) take the name of the acknowledgement they most often appear in (`success`).
    public var name: String {
        switch self {
        case .success: "success"
        case .grantedQoS1: "granted-qos-1"
        case .grantedQoS2: "granted-qos-2"
        case .disconnectWithWill: "disconnect-with-will-message"
        case .noMatchingSubscribers: "no-matching-subscribers"
        case .noSubscriptionExisted: "no-subscription-existed"
        case .continueAuthentication: "continue-authentication"
        case .reAuthenticate: "re-authenticate"
        case .unspecifiedError: "unspecified-error"
        case .malformedPacket: "malformed-packet"
        case .protocolError: "protocol-error"
        case .implementationSpecificError: "implementation-specific-error"
        case .unsupportedProtocolVersion: "unsupported-protocol-version"
        case .clientIdentifierNotValid: "client-identifier-not-valid"
        case .badUserNameOrPassword: "bad-user-name-or-password"
        case .notAuthorized: "not-authorized"
        case .serverUnavailable: "server-unavailable"
        case .serverBusy: "server-busy"
        case .banned: "banned"
        case .serverShuttingDown: "server-shutting-down"
        case .badAuthenticationMethod: "bad-authentication-method"
        case .keepAliveTimeout: "keep-alive-timeout"
        case .sessionTakenOver: "session-taken-over"
        case .topicFilterInvalid: "topic-filter-invalid"
        case .topicNameInvalid: "topic-name-invalid"
        case .packetIdentifierInUse: "packet-identifier-in-use"
        case .packetIdentifierNotFound: "packet-identifier-not-found"
        case .receiveMaximumExceeded: "receive-maximum-exceeded"
        case .topicAliasInvalid: "topic-alias-invalid"
        case .packetTooLarge: "packet-too-large"
        case .messageRateTooHigh: "message-rate-too-high"
        case .quotaExceeded: "quota-exceeded"
        case .administrativeAction: "administrative-action"
        case .payloadFormatInvalid: "payload-format-invalid"
        case .retainNotSupported: "retain-not-supported"
        case .qosNotSupported: "qos-not-supported"
        case .useAnotherServer: "use-another-server"
        case .serverMoved: "server-moved"
        case .sharedSubscriptionsNotSupported: "shared-subscriptions-not-supported"
        case .connectionRateExceeded: "connection-rate-exceeded"
        case .maximumConnectTime: "maximum-connect-time"
        case .subscriptionIdentifiersNotSupported: "subscription-identifiers-not-supported"
        case .wildcardSubscriptionsNotSupported: "wildcard-subscriptions-not-supported"
        }
    }

    /// The name of a raw code as received: ``name`` for the codes MQTT 5 defines, `unknown` for the
    /// others (a cloud may send any byte).
    public static func name(of code: UInt8) -> String {
        ReasonCode(rawValue: code)?.name ?? "unknown"
    }
}
