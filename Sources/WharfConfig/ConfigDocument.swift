/// Turns document text into a positioned `ConfigNode` tree: YAML syntax first, no schema.
enum ConfigDocument {
    /// Deeper nesting than this is refused before parsing: converting the nodes recurses per level.
    static let maximumNesting = 100
    /// More nodes than this (counting alias expansions) are refused, so `*alias` chains cannot explode.
    static let maximumNodes = 100_000

    /// The root node (`nil` for an empty document) and the problems found while building it,
    /// or the syntax error that stopped parsing.
    static func parse(yaml: String, file: String) -> Result<(ConfigNode?, [ConfigIssue]), ConfigError> {
        if let deep = NestingScanner.firstPositionDeeper(than: maximumNesting, in: yaml) {
            return .failure(
                ConfigError(issues: [
                    ConfigIssue(
                        file: file,
                        line: deep.line,
                        column: deep.column,
                        path: "",
                        message: "lists and mappings are nested more than \(maximumNesting) levels deep"
                    )
                ])
            )
        }
        let composed: YAMLDocument?
        do {
            // Plain scalars come untyped; `PlainScalar` types them.
            composed = try YAMLComposer.compose(yaml)
        } catch {
            return .failure(ConfigError(issues: [SyntaxIssue.issue(for: error, yaml: yaml, file: file)]))
        }
        guard let composed else { return .success((nil, [])) }
        var converter = NodeConverter(file: file, document: composed)
        let root = converter.convert(composed.root, path: "")
        return .success((root, converter.issues))
    }
}

/// Converts composed YAML nodes into `ConfigNode`s, typing scalars as YAML 1.1 resolves them.
private struct NodeConverter {
    let file: String
    /// The document being converted, for the tags its keys gave their nodes.
    let document: YAMLDocument
    var issues: [ConfigIssue] = []
    private var budget = ConfigDocument.maximumNodes

    init(file: String, document: YAMLDocument) {
        self.file = file
        self.document = document
    }

    mutating func convert(_ node: YAMLNode, path: String) -> ConfigNode {
        let line = node.mark.line
        let column = node.mark.column
        guard budget > 0 else {
            if budget == 0 {
                issues.append(
                    ConfigIssue(
                        file: file,
                        line: line,
                        column: column,
                        path: path,
                        message: "the document has more than \(ConfigDocument.maximumNodes) values (counting aliases)"
                    )
                )
                budget -= 1
            }
            return ConfigNode(.null, file: file, path: path, line: line, column: column)
        }
        budget -= 1
        switch node.content {
        case .scalar(let text, let style):
            return ConfigNode(
                content(of: text, style: style, tag: document.tag(of: node)),
                text: text,
                isQuoted: style != .plain,
                file: file,
                path: path,
                line: line,
                column: column
            )
        case .sequence(let sequence):
            let elements = sequence.enumerated().map { index, element in
                convert(element, path: ConfigPath.index(index, in: path))
            }
            return ConfigNode(.array(elements), file: file, path: path, line: line, column: column)
        case .mapping(let pairs):
            return ConfigNode(
                .object(members(of: pairs, path: path)), file: file, path: path, line: line, column: column)
        }
    }

    /// The typed value of a scalar: by its explicit tag (`!!int 5`), by the YAML 1.1 rules when
    /// it is plain and untagged, a string otherwise.
    private func content(of text: String, style: YAMLScalarStyle, tag: String) -> ConfigNode.Content {
        // The tag as written: empty for a plain scalar without one (quoted ones are `!!str`).
        let kind: PlainScalar
        switch tag {
        case "": kind = PlainScalar.kind(of: text)
        case YAMLTag.null: kind = .null
        case YAMLTag.bool: kind = .bool
        case YAMLTag.int, YAMLTag.float: kind = .number
        default: kind = .string
        }
        switch kind {
        case .null:
            return .null
        case .bool:
            return PlainScalar.bool(text).map(ConfigNode.Content.bool) ?? .string(text)
        case .number:
            // YAML 1.1 reads `1:30` as 90 and `010` as 8; an installer means neither.
            if text.contains(":") { return .string(text) }
            if let number = Self.integer(text) { return .int(number) }
            // Too large for Int: keep it a number so that range messages quote it as written. A
            // quoted `!!float "1e3"` stays text, as YAML tools construct it.
            guard style == .plain else { return .string(text) }
            return PlainScalar.double(text).map(ConfigNode.Content.double) ?? .string(text)
        default:
            return .string(text)
        }
    }

    /// Decimal (leading zeros allowed), or `0x`/`0o`/`0b` with their prefix; `_` separates digits.
    private static func integer(_ text: String) -> Int? {
        var digits = Substring(text.filter { $0 != "_" })
        var sign = ""
        if let first = digits.first, first == "-" || first == "+" {
            sign = first == "-" ? "-" : ""
            digits = digits.dropFirst()
        }
        var radix = 10
        for (prefix, base) in [("0x", 16), ("0o", 8), ("0b", 2)] where digits.hasPrefix(prefix) {
            radix = base
            digits = digits.dropFirst(2)
        }
        guard !digits.isEmpty, digits.first != "-", digits.first != "+" else { return nil }
        return Int(sign + digits, radix: radix)
    }

    /// The mapping's members with YAML merge keys (`<<: *base`) applied: own keys win over merged
    /// ones, and earlier merge sources over later ones.
    private mutating func members(of pairs: [YAMLPair], path: String) -> [ConfigMember] {
        var own: [ConfigMember] = []
        var merged: [ConfigMember] = []
        for pair in pairs {
            let key = pair.key
            guard case .scalar(let name, let style) = key.content else {
                issues.append(
                    ConfigIssue(
                        file: file,
                        line: key.mark.line,
                        column: key.mark.column,
                        path: path,
                        message: "a key must be a plain name, not a list or mapping"
                    )
                )
                continue
            }
            // A merge key is known by its text, whatever its tag: `"<<"` in quotes is a key like any other.
            if style == .plain && name == "<<" {
                merged += mergeSources(pair.value, path: path)
                continue
            }
            own.append(
                ConfigMember(
                    key: name,
                    keyLine: key.mark.line,
                    keyColumn: key.mark.column,
                    value: convert(pair.value, path: ConfigPath.key(name, in: path))
                )
            )
        }
        var seen = Set(own.map(\.key))
        for member in merged where seen.insert(member.key).inserted {
            own.append(member)
        }
        return own
    }

    private mutating func mergeSources(_ value: YAMLNode, path: String) -> [ConfigMember] {
        let sources: [YAMLNode]
        switch value.content {
        case .mapping: sources = [value]
        case .sequence(let items) where items.allSatisfy(\.isMapping): sources = items
        default:
            issues.append(
                ConfigIssue(
                    file: file,
                    line: value.mark.line,
                    column: value.mark.column,
                    path: path,
                    message: "'<<' merges a mapping or a list of mappings, such as '<<: *defaults'"
                )
            )
            return []
        }
        return sources.flatMap { source -> [ConfigMember] in
            guard case .object(let members) = convert(source, path: path).content else { return [] }
            return members
        }
    }
}

extension YAMLNode {
    /// Whether the node is a mapping.
    fileprivate var isMapping: Bool {
        if case .mapping = content { return true }
        return false
    }
}
