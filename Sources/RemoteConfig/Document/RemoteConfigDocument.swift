/// The signed configuration document published on `wharf/{gateway}/config/desired`
/// (docs/remote-config.md, "The document").
///
/// `{gateway, version, config, not_before?, expires?, key_id?, signature?}`: the signature is
/// Ed25519 over the canonical JSON (RFC 8785) of every other member, so it covers the gateway id,
/// the version, the key id and the validity times as well as the configuration.
public struct RemoteConfigDocument: Sendable, Equatable {
    /// The gateway the document is for (`gateway.id` of the target).
    public var gateway: String
    /// The version, a positive integer (at most 2^53); each gateway applies only increasing versions.
    public var version: Int
    /// The configuration sections sent: a JSON object with the schema of the YAML file.
    public var config: JSONValue
    /// Unix seconds before which the document must not be applied (`not_before`), if any.
    public var notBefore: Int64?
    /// Unix seconds from which the document must no longer be applied (`expires`), if any.
    public var expires: Int64?
    /// The trusted key that signed the document (`key_id`); `nil` when unsigned.
    public var keyID: String?
    /// The 64-byte Ed25519 signature (base64 in the JSON); `nil` when unsigned.
    public var signature: [UInt8]?

    /// Creates an unsigned document.
    public init(
        gateway: String, version: Int, config: JSONValue, notBefore: Int64? = nil, expires: Int64? = nil,
        keyID: String? = nil, signature: [UInt8]? = nil
    ) {
        self.gateway = gateway
        self.version = version
        self.config = config
        self.notBefore = notBefore
        self.expires = expires
        self.keyID = keyID
        self.signature = signature
    }

    /// The document members that the signature covers: every member but `signature`.
    public var signedContent: JSONValue {
        var members: [JSONMember] = [
            JSONMember("gateway", .string(gateway)),
            JSONMember("version", .number(JSONNumber(version))),
        ]
        if let keyID { members.append(JSONMember("key_id", .string(keyID))) }
        if let notBefore { members.append(JSONMember("not_before", .string(UTCTimestamp.format(notBefore)))) }
        if let expires { members.append(JSONMember("expires", .string(UTCTimestamp.format(expires)))) }
        members.append(JSONMember("config", config))
        return .object(members)
    }

    /// The whole document as JSON, the signature last.
    public var json: JSONValue {
        guard case .object(var members) = signedContent else { return signedContent }
        if let signature { members.append(JSONMember("signature", .string(Base64.encode(signature)))) }
        return .object(members)
    }

    /// The bytes the signature is computed over: the RFC 8785 canonical form of `signedContent`.
    public func signingPayload() -> Result<[UInt8], CanonicalEncodingError> {
        signedContent.canonicalBytes()
    }
}
