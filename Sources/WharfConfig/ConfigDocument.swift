internal import Yams

/// Turns document text into a positioned `ConfigNode` tree: YAML syntax first, no schema.
enum ConfigDocument {
    /// Deeper nesting than this is refused before parsing: the YAML composer recurses per level.
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
        let composed: Node?
        do {
            // The basic resolver leaves plain scalars untyped; `PlainScalar` types them.
            composed = try Yams.compose(yaml: yaml, .basic)
        } catch let error as YamlError {
            return .failure(ConfigError(issues: [SyntaxIssue.issue(for: error, yaml: yaml, file: file)]))
        } catch {
            return .failure(
                ConfigError(issues: [ConfigIssue(file: file, path: "", message: "cannot read the document: \(error)")])
            )
        }
        guard let composed else { return .success((nil, [])) }
        var converter = NodeConverter(file: file)
        let root = converter.convert(composed, path: "")
        return .success((root, converter.issues))
    }
}

/// Converts Yams nodes into `ConfigNode`s, typing scalars as YAML 1.1 resolves them.
private struct NodeConverter {
    let file: String
    var issues: [ConfigIssue] = []
    private var budget = ConfigDocument.maximumNodes

    init(file: String) { self.file = file }

    mutating func convert(_ node: Node, path: String) -> ConfigNode {
        let line = node.mark?.line
        let column = node.mark?.column
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
        switch node {
        case .scalar(let scalar):
            let quoted = scalar.style != .plain && scalar.style != .any
            return ConfigNode(
                content(of: scalar),
                text: scalar.string,
                isQuoted: quoted,
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
        case .mapping(let mapping):
            return ConfigNode(
                .object(members(of: mapping, path: path)), file: file, path: path, line: line, column: column)
        case .alias:
            // Yams resolves aliases while composing; an alias node here has no target.
            issues.append(
                ConfigIssue(file: file, line: line, column: column, path: path, message: "alias refers to no anchor")
            )
            return ConfigNode(.null, file: file, path: path, line: line, column: column)
        }
    }

    /// The typed value of a scalar: by its explicit tag (`!!int 5`), by the YAML 1.1 rules when
    /// it is plain and untagged, a string otherwise.
    private func content(of scalar: Node.Scalar) -> ConfigNode.Content {
        // The tag as written: empty for a plain scalar without one (quoted ones are `!!str`).
        let kind: PlainScalar
        switch scalar.tag.description {
        case "": kind = PlainScalar.kind(of: scalar.string)
        case Tag.Name.null.rawValue: kind = .null
        case Tag.Name.bool.rawValue: kind = .bool
        case Tag.Name.int.rawValue, Tag.Name.float.rawValue: kind = .number
        default: kind = .string
        }
        switch kind {
        case .null:
            return .null
        case .bool:
            return Bool.construct(from: scalar).map(ConfigNode.Content.bool) ?? .string(scalar.string)
        case .number:
            // YAML 1.1 reads `1:30` as 90 and `010` as 8; an installer means neither.
            if scalar.string.contains(":") { return .string(scalar.string) }
            if let number = Self.integer(scalar.string) { return .int(number) }
            // Too large for Int: keep it a number so that range messages quote it as written.
            return Double.construct(from: scalar).map(ConfigNode.Content.double) ?? .string(scalar.string)
        default:
            return .string(scalar.string)
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
    private mutating func members(of mapping: Node.Mapping, path: String) -> [ConfigMember] {
        var own: [ConfigMember] = []
        var merged: [ConfigMember] = []
        for (key, value) in mapping {
            // Composing typed the keys (to find duplicates), so a merge key is known by its text.
            if let keyScalar = key.scalar, keyScalar.style == .plain || keyScalar.style == .any,
                keyScalar.string == "<<"
            {
                merged += mergeSources(value, path: path)
                continue
            }
            guard case .scalar(let keyScalar) = key else {
                issues.append(
                    ConfigIssue(
                        file: file,
                        line: key.mark?.line,
                        column: key.mark?.column,
                        path: path,
                        message: "a key must be a plain name, not a list or mapping"
                    )
                )
                continue
            }
            let name = keyScalar.string
            own.append(
                ConfigMember(
                    key: name,
                    keyLine: key.mark?.line,
                    keyColumn: key.mark?.column,
                    value: convert(value, path: ConfigPath.key(name, in: path))
                )
            )
        }
        var seen = Set(own.map(\.key))
        for member in merged where seen.insert(member.key).inserted {
            own.append(member)
        }
        return own
    }

    private mutating func mergeSources(_ value: Node, path: String) -> [ConfigMember] {
        let sources: [Node]
        switch value {
        case .mapping: sources = [value]
        case .sequence(let sequence) where sequence.allSatisfy({ $0.mapping != nil }): sources = Array(sequence)
        default:
            issues.append(
                ConfigIssue(
                    file: file,
                    line: value.mark?.line,
                    column: value.mark?.column,
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
