/// Reading a document from JSON, reporting every problem of its shape with its key path.
extension RemoteConfigDocument {
    /// The members a document may have.
    static let members = ["gateway", "version", "config", "not_before", "expires", "key_id", "signature"]

    /// Parses and reads a document; every problem found, when there is one.
    public static func parse(_ bytes: some Collection<UInt8>) -> Result<RemoteConfigDocument, RemoteConfigRejection> {
        switch JSONParser.parse(bytes) {
        case .failure(let error):
            let message = "invalid JSON at line \(error.line), column \(error.column): \(error.message)"
            return .failure(RemoteConfigRejection([RemoteConfigProblem(.malformed, path: error.path, message)]))
        case .success(let value):
            return read(value)
        }
    }

    /// Reads a document from a parsed JSON value.
    public static func read(_ value: JSONValue) -> Result<RemoteConfigDocument, RemoteConfigRejection> {
        guard case .object(let members) = value else {
            return .failure(
                RemoteConfigRejection([RemoteConfigProblem(.malformed, "expected a JSON object, got \(value.kind)")]))
        }
        var problems: [RemoteConfigProblem] = []
        func malformed(_ path: String, _ message: String) {
            problems.append(RemoteConfigProblem(.malformed, path: path, message))
        }
        for member in members where !Self.members.contains(member.key) {
            malformed(
                JSONPath.key(member.key, in: ""),
                "unknown member '\(member.key)'; a document has \(Self.members.joined(separator: ", "))")
        }

        var gateway = ""
        switch value["gateway"] {
        case .string(let text) where GatewayID.isValid(text): gateway = text
        case .string(let text):
            malformed("gateway", "expected a gateway id (up to 64 letters, digits, '.', '_' or '-'), got \"\(text)\"")
        case nil: malformed("gateway", "missing required member 'gateway' (the id of the target gateway)")
        case let other?: malformed("gateway", "expected a string, got \(other.kind)")
        }

        var version = 0
        switch value["version"] {
        case .number(let number)
        where number.isIntegerLiteral && (number.intValue ?? 0) >= 1
            && (number.intValue ?? 0) <= JSONValue.maximumExactInteger:
            version = number.intValue ?? 0
        case nil: malformed("version", "missing required member 'version' (a positive integer)")
        case let other?:
            malformed("version", "expected an integer from 1 to 2^53 without fraction or exponent, got \(shown(other))")
        }

        var config: JSONValue = .object([])
        switch value["config"] {
        case .object(let sections): config = .object(sections)
        case nil: malformed("config", "missing required member 'config' (an object of configuration sections)")
        case let other?: malformed("config", "expected an object of configuration sections, got \(other.kind)")
        }

        let notBefore = time(value["not_before"], path: "not_before", malformed)
        let expires = time(value["expires"], path: "expires", malformed)
        if let notBefore, let expires, expires <= notBefore {
            malformed("expires", "'expires' must come after 'not_before'")
        }

        var keyID: String?
        switch value["key_id"] {
        case nil: break
        case .string(let text) where KeyID.isValid(text): keyID = text
        case let other?: malformed("key_id", "expected a key id (\(KeyID.rule)), got \(shown(other))")
        }

        var signature: [UInt8]?
        switch value["signature"] {
        case nil: break
        case .string(let text):
            if let bytes = Base64.decode(text), bytes.count == 64 {
                signature = bytes
            } else {
                malformed("signature", "expected the 64-byte Ed25519 signature in base64 (88 characters)")
            }
        case let other?: malformed("signature", "expected a base64 string, got \(other.kind)")
        }
        if value["signature"] != nil && value["key_id"] == nil {
            malformed("key_id", "missing 'key_id': a signed document names the key that signed it")
        }
        if value["key_id"] != nil && value["signature"] == nil {
            malformed("signature", "missing 'signature' although 'key_id' is given")
        }

        // Numbers that have no exact canonical form cannot be signed; report each where it is.
        for error in config.canonicalizationProblems(path: "config") {
            malformed(error.path, error.message)
        }

        guard problems.isEmpty else { return .failure(RemoteConfigRejection(problems)) }
        return .success(
            RemoteConfigDocument(
                gateway: gateway, version: version, config: config, notBefore: notBefore, expires: expires,
                keyID: keyID, signature: signature)
        )
    }

    private static func time(_ value: JSONValue?, path: String, _ malformed: (String, String) -> Void) -> Int64? {
        guard let value else { return nil }
        if case .string(let text) = value, let seconds = UTCTimestamp.parse(text) { return seconds }
        malformed(path, "expected a UTC time such as \"2026-12-07T14:30:00Z\", got \(shown(value))")
        return nil
    }

    private static func shown(_ value: JSONValue) -> String {
        switch value {
        case .number(let number): return number.literal
        case .string(let text): return "\"\(text.count > 60 ? text.prefix(57) + "..." : Substring(text))\""
        default: return value.kind
        }
    }
}

/// Gateway ids, spelt as the configuration's `gateway.id` (one MQTT topic level).
enum GatewayID {
    static func isValid(_ id: String) -> Bool {
        (1...64).contains(id.unicodeScalars.count)
            && id.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                    || $0 == "." || $0 == "_" || $0 == "-"
            }
    }
}

/// Key ids: also the name of the key file (`KEY_ID.pub`), so nothing that could leave the directory.
public enum KeyID {
    /// The rule, for messages.
    public static let rule = "1 to 64 letters, digits, '.', '_' or '-', not starting with '.'"

    /// Whether `id` follows the rule.
    public static func isValid(_ id: String) -> Bool {
        GatewayID.isValid(id) && !id.hasPrefix(".")
    }
}
