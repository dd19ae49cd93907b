public import WharfConfig

/// A JSON value as a configuration tree, so that the file's validator reads it.
extension JSONValue {
    /// The tree of this value, its nodes named `file` with key paths from `path`.
    ///
    /// Numbers take their meaning from the canonical form, which is what the signature covers: a
    /// number with an integral value within ±2^53 is an integer (`8080.0` reads as `8080`), any
    /// other one a double; the node's text is the canonical text. Strings are quoted values, as
    /// in a YAML file, so `"10"` stays text.
    public func configNode(file: String, path: String = "") -> ConfigNode {
        switch self {
        case .null:
            return ConfigNode(.null, text: "null", file: file, path: path)
        case .bool(let flag):
            return ConfigNode(.bool(flag), text: flag ? "true" : "false", file: file, path: path)
        case .string(let text):
            return ConfigNode(.string(text), text: text, isQuoted: true, file: file, path: path)
        case .number(let number):
            guard case .success(let text) = Self.canonical(number, path: path), let value = number.doubleValue else {
                // Not canonicalizable (refused before validation); keep it a number, quoted as written.
                return ConfigNode(
                    number.intValue.map(ConfigNode.Content.int) ?? .double(number.doubleValue ?? .infinity),
                    text: number.literal, file: file, path: path)
            }
            if value.rounded() == value, value.magnitude <= Double(Self.maximumExactInteger),
                let integer = Int(exactly: value)
            {
                return ConfigNode(.int(integer), text: text, file: file, path: path)
            }
            return ConfigNode(.double(value), text: text, file: file, path: path)
        case .array(let elements):
            let nodes = elements.enumerated().map { index, element in
                element.configNode(file: file, path: ConfigPath.index(index, in: path))
            }
            return ConfigNode(.array(nodes), file: file, path: path)
        case .object(let members):
            let nodes = members.map { member in
                ConfigMember(
                    key: member.key,
                    value: member.value.configNode(file: file, path: ConfigPath.key(member.key, in: path)))
            }
            return ConfigNode(.object(nodes), file: file, path: path)
        }
    }
}

/// A configuration tree as JSON, for `wharfctl config sign` reading a YAML file.
extension JSONValue {
    /// The JSON of a configuration tree, or the key path of a value JSON cannot hold (NaN, infinity).
    public init(configNode node: ConfigNode) throws(CanonicalEncodingError) {
        switch node.content {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .int(let number): self = .number(JSONNumber(number))
        case .double(let number):
            guard let text = ECMAScriptNumber.format(number), let parsed = JSONNumber(literal: text) else {
                throw CanonicalEncodingError(path: node.path, message: "\(node.quoted) is not a number JSON can hold")
            }
            self = .number(parsed)
        case .string(let text): self = .string(text)
        case .array(let elements):
            var values: [JSONValue] = []
            for element in elements { values.append(try JSONValue(configNode: element)) }
            self = .array(values)
        case .object(let members):
            var values: [JSONMember] = []
            for member in members { values.append(JSONMember(member.key, try JSONValue(configNode: member.value))) }
            self = .object(values)
        }
    }
}
