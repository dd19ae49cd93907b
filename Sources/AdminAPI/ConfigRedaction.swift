public import WharfConfig

/// The effective configuration as JSON for `GET /api/v1/config`, with secrets replaced by `***`.
///
/// The tree is built by reflection, so sections added to ``WharfConfiguration`` later appear
/// without changes here; keys are the config file's snake_case names.
public enum ConfigRedaction {
    /// What replaces a secret value.
    public static let mask = "***"

    /// Words that make a key secret wherever it appears (`password`, `psk_key`, `key_file`,
    /// `client_secret`, ...): the value is masked whatever its type.
    static let secretWords: Set<String> = [
        "password", "passwd", "secret", "token", "key", "keys", "psk", "credentials",
    ]

    /// Property names whose config key is not their plain snake_case form.
    static let renamed: [String: String] = [
        "data_directory": "data_dir",
        "max_keep_alive": "max_keepalive",
        "keep_alive": "keepalive",
        "transport": "protocol",
        "minimum_version": "min_version",
    ]

    /// The whole configuration, redacted.
    public static func json(_ configuration: WharfConfiguration) -> JSONValue {
        value(of: configuration)
    }

    /// Whether a config key names a secret.
    public static func isSecret(_ key: String) -> Bool {
        key.lowercased().split(whereSeparator: { $0 == "_" || $0 == "-" || $0 == "." }).contains {
            secretWords.contains(String($0))
        }
    }

    /// `dataDirectory` → `data_directory`, `clientID` → `client_id`.
    static func snakeCase(_ name: String) -> String {
        var result = ""
        let characters = Array(name)
        for (index, character) in characters.enumerated() {
            if character.isUppercase, index > 0 {
                let previous = characters[index - 1]
                let nextIsLower = index + 1 < characters.count && characters[index + 1].isLowercase
                if previous.isLowercase || previous.isNumber || (previous.isUppercase && nextIsLower) {
                    result += "_"
                }
            }
            result += character.lowercased()
        }
        return renamed[result] ?? result
    }

    static func value(of subject: Any) -> JSONValue {
        switch subject {
        case let value as ConfigValue: return redacted(value)
        case let admin as AdminConfig:
            return .object([
                ("enabled", .bool(admin.enabled)), ("listen", .string(admin.listen)),
                ("allow_remote", .bool(admin.allowRemote)), ("log_lines", .int(admin.logLines)),
                ("history_interval", .string(format(admin.historyInterval))),
                ("max_event_streams", .int(admin.maxEventStreams)),
                ("password_file", admin.passwordFile.map { _ in .string(mask) } ?? .null),
                ("trust_loopback", .bool(admin.trustLoopback)),
                ("allow_insecure_login", .bool(admin.allowInsecureLogin)),
                ("session_lifetime", .string(format(admin.sessionLifetime))),
                ("max_sessions", .int(admin.maxSessions)),
                ("login_failures_per_minute", .int(admin.loginFailuresPerMinute)),
                ("tls", admin.tls.map { value(of: $0) } ?? .null),
            ])
        case let file as ConfigFileSetting: return .string(file.path)
        case let value as String: return .string(value)
        case let value as Bool: return .bool(value)
        case let value as Int: return .int(value)
        case let value as Double: return .double(value)
        case let value as Duration: return .string(format(value))
        case let value as any BinaryInteger: return .int(Int(clamping: value))
        case let value as any RawRepresentable: return Self.value(of: value.rawValue)
        default: break
        }
        let mirror = Mirror(reflecting: subject)
        switch mirror.displayStyle {
        case .optional:
            return mirror.children.first.map { value(of: $0.value) } ?? .null
        case .collection, .set:
            return .array(mirror.children.map { value(of: $0.value) })
        case .dictionary:
            let pairs: [(String, JSONValue)] = mirror.children.compactMap { child in
                let pair = Mirror(reflecting: child.value).children.map(\.value)
                guard pair.count == 2 else { return nil }
                let key = "\(pair[0])"
                return (key, isSecret(key) ? mask(value(of: pair[1])) : value(of: pair[1]))
            }
            return .object(pairs.sorted { $0.0 < $1.0 })
        case .struct, .class:
            return .object(
                mirror.children.compactMap { child in
                    guard let label = child.label, !(child.value is ConfigNode) else { return nil }
                    let key = snakeCase(label)
                    let rendered = value(of: child.value)
                    return (key, isSecret(key) ? mask(rendered) : rendered)
                })
        default:
            return .string("\(subject)")
        }
    }

    /// Adapter settings as written, with secret keys masked at any depth.
    static func redacted(_ value: ConfigValue) -> JSONValue {
        switch value {
        case .null: .null
        case .bool(let flag): .bool(flag)
        case .int(let number): .int(number)
        case .double(let number): .double(number)
        case .string(let text): .string(text)
        case .array(let elements): .array(elements.map(redacted))
        case .object(let members):
            .object(
                members.map { member in
                    let rendered = redacted(member.value)
                    return (member.key, isSecret(member.key) ? mask(rendered) : rendered)
                })
        }
    }

    /// Hides a secret; an absent or empty one stays visible as such, so an operator can tell
    /// "not set" from "set".
    static func mask(_ value: JSONValue) -> JSONValue {
        switch value {
        case .null: .null
        case .string(let text) where text.isEmpty: .string("")
        default: .string(mask)
        }
    }

    /// A duration as the config file writes it: `90s` → `1m30s`, `500ms`.
    static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = attoseconds / 1_000_000_000_000_000
        if seconds == 0 && milliseconds == 0 { return "0s" }
        var text = ""
        var rest = seconds
        for (unit, size) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        if milliseconds > 0 { text += "\(milliseconds)ms" }
        return text
    }
}
