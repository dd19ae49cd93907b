/// Why a topic name or topic filter is not acceptable to MQTT.
public enum TopicValidationError: Error, Sendable, Equatable {
    /// The string has no characters; MQTT requires at least one.
    case empty
    /// The UTF-8 encoding is longer than the 65,535 bytes an MQTT string can hold.
    case tooLong
    /// The string contains U+0000, which MQTT forbids in every UTF-8 string.
    case containsNull
    /// A topic name (what is published to) contains `+` or `#`.
    case wildcardInName
    /// A filter has `#` that is not alone in the last level, or `+` that is not alone in its level.
    case misplacedWildcard
    /// A `$share/` filter lacks a share name or a filter, or its share name contains `+`, `#` or `/`.
    case invalidSharedSubscription
}

/// Rules for MQTT topic names and topic filters (MQTT 3.1.1 §4.7, MQTT 5.0 §4.7).
public enum Topic {
    /// The level separator `/`.
    @inlinable public static var separator: UInt8 { UInt8(ascii: "/") }
    /// The single-level wildcard `+`.
    @inlinable public static var singleLevelWildcard: UInt8 { UInt8(ascii: "+") }
    /// The multi-level wildcard `#`.
    @inlinable public static var multiLevelWildcard: UInt8 { UInt8(ascii: "#") }
    /// The longest topic an MQTT UTF-8 string can carry, in bytes.
    public static let maximumLength = 65_535

    /// Checks a topic name a message is published to; returns `nil` when it is valid.
    public static func validateName(_ name: String) -> TopicValidationError? {
        // Scanning a contiguous buffer is several times faster than walking `String.UTF8View`;
        // the broker runs this on every PUBLISH.
        var name = name
        return name.withUTF8 { bytes in
            if let error = validateString(bytes) { return error }
            for byte in bytes where byte == singleLevelWildcard || byte == multiLevelWildcard {
                return .wildcardInName
            }
            return nil
        }
    }

    /// Checks a topic filter a client subscribes with; returns `nil` when it is valid.
    ///
    /// `$share/` filters are checked as plain filters here; use `SharedSubscription.parse` for their structure.
    public static func validateFilter(_ filter: String) -> TopicValidationError? {
        var filter = filter
        return filter.withUTF8 { bytes in
            if let error = validateString(bytes) { return error }
            // Each byte is judged by its neighbours: a wildcard must be bounded by separators or the ends.
            var previous: UInt8? = nil
            var afterMultiLevel = false
            for byte in bytes {
                if afterMultiLevel { return .misplacedWildcard }
                switch byte {
                case singleLevelWildcard, multiLevelWildcard:
                    if let previous, previous != separator { return .misplacedWildcard }
                    afterMultiLevel = byte == multiLevelWildcard
                default:
                    if previous == singleLevelWildcard && byte != separator { return .misplacedWildcard }
                }
                previous = byte
            }
            return nil
        }
    }

    /// Whether a topic is reserved for the server (`$SYS/...`, `$share/...`): it starts with `$`.
    public static func isSystemTopic(_ name: String) -> Bool {
        name.utf8.first == UInt8(ascii: "$")
    }

    /// The checks every MQTT UTF-8 string must pass, name or filter.
    private static func validateString(_ bytes: UnsafeBufferPointer<UInt8>) -> TopicValidationError? {
        if bytes.isEmpty { return .empty }
        if bytes.count > maximumLength { return .tooLong }
        if bytes.contains(0) { return .containsNull }
        return nil
    }
}

/// An MQTT 5 shared subscription, `$share/{group}/{filter}`: the group's subscribers take turns.
public struct SharedSubscription: Sendable, Hashable {
    /// The share name: which group of subscribers shares the messages.
    public var group: String
    /// The topic filter the group subscribes to.
    public var filter: String

    /// Creates a shared subscription from its parts (not validated).
    public init(group: String, filter: String) {
        self.group = group
        self.filter = filter
    }

    /// The prefix that marks a shared subscription.
    public static let prefix = "$share/"

    /// The full filter as a client sends it, `$share/{group}/{filter}`.
    public var rawValue: String { SharedSubscription.prefix + group + "/" + filter }

    /// Parses `$share/{group}/{filter}`.
    ///
    /// Returns `nil` when `filter` is not a shared subscription at all (it does not start with `$share/`),
    /// `.failure(.invalidSharedSubscription)` when the share name is empty or holds `+`, `#`, or when the
    /// filter part is missing, and the filter's own validation error when the filter part is invalid.
    public static func parse(_ filter: String) -> Result<SharedSubscription, TopicValidationError>? {
        let utf8 = filter.utf8
        guard utf8.starts(with: prefix.utf8) else { return nil }
        let groupStart = utf8.index(utf8.startIndex, offsetBy: prefix.utf8.count)
        let rest = utf8[groupStart...]
        guard let groupEnd = rest.firstIndex(of: Topic.separator) else {
            return .failure(.invalidSharedSubscription)
        }
        let group = rest[..<groupEnd]
        if group.isEmpty || group.contains(Topic.singleLevelWildcard) || group.contains(Topic.multiLevelWildcard) {
            return .failure(.invalidSharedSubscription)
        }
        let inner = rest[utf8.index(after: groupEnd)...]
        if inner.isEmpty { return .failure(.invalidSharedSubscription) }
        // Slicing at ASCII separators keeps the scalar boundaries, so both conversions are exact.
        let parsed = SharedSubscription(group: String(Substring(group)), filter: String(Substring(inner)))
        if let error = Topic.validateFilter(parsed.filter) { return .failure(error) }
        return .success(parsed)
    }
}
