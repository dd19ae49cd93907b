/// A raw configuration value, as written in the document, without source positions.
///
/// Adapter sections are kept in this form so that each adapter can decode its own settings;
/// `ConfigNode` carries the same tree with positions for error reports.
public enum ConfigValue: Sendable, Equatable {
    /// An empty value (`~`, `null` or nothing after the colon).
    case null
    /// `true` or `false` (YAML also reads `yes`/`no`/`on`/`off` as booleans).
    case bool(Bool)
    /// A whole number.
    case int(Int)
    /// A number with a fraction or exponent.
    case double(Double)
    /// Text.
    case string(String)
    /// A list.
    case array([ConfigValue])
    /// A mapping, in document order.
    case object([Member])

    /// One key and its value in a mapping.
    public struct Member: Sendable, Equatable {
        /// The key.
        public var key: String
        /// The value.
        public var value: ConfigValue

        /// Creates a member.
        public init(_ key: String, _ value: ConfigValue) {
            self.key = key
            self.value = value
        }
    }

    /// The value of `key` when this is a mapping that has it.
    public subscript(key: String) -> ConfigValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// The element at `index` when this is a list that long.
    public subscript(index: Int) -> ConfigValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// The text, when this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The number, when this is a whole number.
    public var intValue: Int? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// The number, when this is any number.
    public var doubleValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    /// The flag, when this is a boolean.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// Whether this is `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension ConfigValue: ExpressibleByNilLiteral {
    /// Creates `.null`.
    public init(nilLiteral: ()) { self = .null }
}

extension ConfigValue: ExpressibleByBooleanLiteral {
    /// Creates `.bool`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension ConfigValue: ExpressibleByIntegerLiteral {
    /// Creates `.int`.
    public init(integerLiteral value: Int) { self = .int(value) }
}

extension ConfigValue: ExpressibleByFloatLiteral {
    /// Creates `.double`.
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension ConfigValue: ExpressibleByStringLiteral {
    /// Creates `.string`.
    public init(stringLiteral value: String) { self = .string(value) }
}

extension ConfigValue: ExpressibleByArrayLiteral {
    /// Creates `.array`.
    public init(arrayLiteral elements: ConfigValue...) { self = .array(elements) }
}

extension ConfigValue: ExpressibleByDictionaryLiteral {
    /// Creates `.object`, keeping the literal's order.
    public init(dictionaryLiteral elements: (String, ConfigValue)...) {
        self = .object(elements.map { Member($0.0, $0.1) })
    }
}
