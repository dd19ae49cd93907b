/// A configuration value together with where it was written: file, line, column and key path.
///
/// Adapters receive their section in this form (`AdapterConfig.source`) so that their own
/// validation can report `adapters[1].points[3].address` with the line it is on.
public struct ConfigNode: Sendable, Equatable {
    /// The value, with positioned children.
    public enum Content: Sendable, Equatable {
        /// An empty value.
        case null
        /// A boolean.
        case bool(Bool)
        /// A whole number.
        case int(Int)
        /// A number with a fraction or exponent.
        case double(Double)
        /// Text.
        case string(String)
        /// A list.
        case array([ConfigNode])
        /// A mapping, in document order.
        case object([ConfigMember])
    }

    /// The value.
    public var content: Content
    /// For scalars, the text exactly as written (used to quote the user back in messages).
    public var text: String?
    /// Whether a scalar was written in quotes, which makes `"10"` text rather than a number.
    public var isQuoted: Bool
    /// Source name given to the loader.
    public var file: String
    /// Key path from the document root, such as `adapters[1].points[3]`.
    public var path: String
    /// 1-based line where the value starts, when known.
    public var line: Int?
    /// 1-based column where the value starts, when known.
    public var column: Int?

    /// Creates a node.
    public init(
        _ content: Content,
        text: String? = nil,
        isQuoted: Bool = false,
        file: String = "",
        path: String = "",
        line: Int? = nil,
        column: Int? = nil
    ) {
        self.content = content
        self.text = text
        self.isQuoted = isQuoted
        self.file = file
        self.path = path
        self.line = line
        self.column = column
    }

    /// Builds an unpositioned tree from a raw value, for configurations made in code.
    public init(value: ConfigValue, file: String = "", path: String = "") {
        let content: Content
        switch value {
        case .null: content = .null
        case .bool(let flag): content = .bool(flag)
        case .int(let number): content = .int(number)
        case .double(let number): content = .double(number)
        case .string(let string): content = .string(string)
        case .array(let elements):
            content = .array(
                elements.enumerated().map { index, element in
                    ConfigNode(value: element, file: file, path: ConfigPath.index(index, in: path))
                }
            )
        case .object(let members):
            content = .object(
                members.map { member in
                    ConfigMember(
                        key: member.key,
                        value: ConfigNode(value: member.value, file: file, path: ConfigPath.key(member.key, in: path))
                    )
                }
            )
        }
        self.init(content, file: file, path: path)
    }

    /// The same tree without positions.
    public var value: ConfigValue {
        switch content {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .int(let number): return .int(number)
        case .double(let number): return .double(number)
        case .string(let string): return .string(string)
        case .array(let elements): return .array(elements.map(\.value))
        case .object(let members): return .object(members.map { ConfigValue.Member($0.key, $0.value.value) })
        }
    }

    /// The value of `key` when this is a mapping that has it.
    public subscript(key: String) -> ConfigNode? {
        guard case .object(let members) = content else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// The element at `index` when this is a list that long.
    public subscript(index: Int) -> ConfigNode? {
        guard case .array(let elements) = content, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// Whether this is an empty value.
    public var isNull: Bool {
        if case .null = content { return true }
        return false
    }

    /// An issue located at this node.
    public func issue(_ message: String) -> ConfigIssue {
        ConfigIssue(file: file, line: line, column: column, path: path, message: message)
    }
}

/// One key of a mapping, with the key's own position (unknown keys are reported there).
public struct ConfigMember: Sendable, Equatable {
    /// The key as written.
    public var key: String
    /// 1-based line of the key, when known.
    public var keyLine: Int?
    /// 1-based column of the key, when known.
    public var keyColumn: Int?
    /// The value.
    public var value: ConfigNode

    /// Creates a member.
    public init(key: String, keyLine: Int? = nil, keyColumn: Int? = nil, value: ConfigNode) {
        self.key = key
        self.keyLine = keyLine
        self.keyColumn = keyColumn
        self.value = value
    }

    /// An issue located at the key.
    public func issue(_ message: String) -> ConfigIssue {
        ConfigIssue(file: value.file, line: keyLine, column: keyColumn, path: value.path, message: message)
    }
}

/// Builds key paths in one spelling everywhere: `a.b[2].c`.
public enum ConfigPath {
    /// The path of `key` inside the mapping at `parent`.
    public static func key(_ key: String, in parent: String) -> String {
        let plain = !key.isEmpty && key.unicodeScalars.allSatisfy { isPlain($0) }
        let component = plain ? key : "[\"\(key)\"]"
        if parent.isEmpty { return component }
        return plain ? "\(parent).\(component)" : parent + component
    }

    /// The path of element `index` inside the list at `parent`.
    public static func index(_ index: Int, in parent: String) -> String {
        "\(parent)[\(index)]"
    }

    private static func isPlain(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "_", "-", "$": return true
        default: return false
        }
    }
}
