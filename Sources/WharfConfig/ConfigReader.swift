/// Reads a positioned configuration tree by key, recording every problem instead of stopping.
///
/// One reader covers one mapping (a section). Typed reads return the default after recording an
/// issue, so decoding always runs to the end and reports everything at once. `finish()` then
/// reports the keys nobody asked for, with "did you mean" hints. Adapters decode their
/// `AdapterConfig.source` with a reader of their own:
///
/// ```swift
/// let reader = ConfigReader(adapter.source)
/// let host = reader.requiredString("host", "the PLC's address")
/// for point in reader.sectionList("points") ?? [] { _ = point.int("address", default: 0, in: 0...65535) }
/// reader.finish()
/// if !reader.issues.isEmpty { /* fail with ConfigError(issues: reader.issues) */ }
/// ```
///
/// Readers are cheap, single-threaded and meant to live only while a document is decoded.
public final class ConfigReader {
    /// The mapping this reader reads; an empty value when the section is absent.
    public let node: ConfigNode
    let log: IssueLog
    private var asked: [String] = []
    private var finished = false

    /// Creates a reader for a tree, with an empty list of issues.
    public convenience init(_ node: ConfigNode) {
        self.init(node, log: IssueLog())
    }

    init(_ node: ConfigNode, log: IssueLog) {
        self.node = node
        self.log = log
    }

    /// Key path of the mapping this reader reads.
    public var path: String { node.path }

    /// Every issue recorded so far through this reader or any reader derived from it, in document order.
    public var issues: [ConfigIssue] { log.resolved() }

    /// The mapping's members, or none when the node is not a mapping.
    public var members: [ConfigMember] {
        guard case .object(let members) = node.content else { return [] }
        return members
    }

    /// Records an issue at a node.
    public func report(_ message: String, at node: ConfigNode) {
        log.append(node.issue(message))
    }

    /// Records an issue.
    public func report(_ issue: ConfigIssue) {
        log.append(issue)
    }

    /// Records a missing required key, located at this mapping.
    public func reportMissing(_ key: String, _ explanation: String) {
        log.append(
            ConfigIssue(
                file: node.file,
                line: node.line,
                column: node.column,
                path: ConfigPath.key(key, in: path),
                message: "missing required key '\(key)' (\(explanation))"
            )
        )
    }

    /// Marks `key` as known here and returns its member, if present.
    public func member(_ key: String) -> ConfigMember? {
        if !asked.contains(key) { asked.append(key) }
        return members.first { $0.key == key }
    }

    /// Marks `key` as known here and returns its value when present and not empty.
    public func value(_ key: String) -> ConfigNode? {
        guard let value = member(key)?.value, !value.isNull else { return nil }
        return value
    }

    /// A reader for the nested mapping at `key`; an empty one (all defaults) when the key is absent,
    /// empty or not a mapping (which is reported).
    public func section(_ key: String) -> ConfigReader {
        let found = member(key)
        if let value = found?.value, !value.isNull {
            if case .object = value.content { return ConfigReader(value, log: log) }
            report("expected a mapping of settings (indented 'key: value' lines), got \(value.quoted)", at: value)
        }
        let empty = ConfigNode(
            .null,
            file: node.file,
            path: ConfigPath.key(key, in: path),
            line: found?.keyLine,
            column: found?.keyColumn
        )
        return ConfigReader(empty, log: log)
    }

    /// The elements of the list at `key`; `nil` when absent or empty, or not a list (which is reported).
    public func list(_ key: String) -> [ConfigNode]? {
        guard let value = value(key) else { return nil }
        guard case .array(let elements) = value.content else {
            report("expected a list (lines starting with '- '), got \(value.quoted)", at: value)
            return nil
        }
        return elements
    }

    /// Readers for the list of mappings at `key`; elements that are not mappings are reported and skipped.
    public func sectionList(_ key: String) -> [ConfigReader]? {
        guard let elements = list(key) else { return nil }
        return elements.compactMap { element in
            guard case .object = element.content else {
                report(
                    "expected a mapping of settings (indented 'key: value' lines), got \(element.quoted)", at: element)
                return nil
            }
            return ConfigReader(element, log: log)
        }
    }

    /// Reports every key of this mapping that no read asked for, with a hint at what was meant.
    ///
    /// Call once, after reading all keys. Mappings with free-form keys simply never call it.
    public func finish() {
        finish(ignoring: { _ in false })
    }

    /// `finish()`, leaving alone the keys `ignored` accepts.
    func finish(ignoring ignored: (String) -> Bool) {
        guard !finished else { return }
        finished = true
        if !path.contains("[") { log.known(keys: asked, in: path) }
        for member in members where !asked.contains(member.key) && !ignored(member.key) {
            log.unknownKey(member, in: path, candidates: asked)
        }
    }
}

extension ConfigNode {
    /// How messages quote this value back: scalars as written, collections by kind.
    public var quoted: String {
        switch content {
        case .null: return "nothing"
        case .array: return "a list"
        case .object: return "a mapping"
        case .string(let string):
            let shown = string.count > 60 ? string.prefix(57) + "..." : Substring(string)
            return "\"\(shown)\""
        case .bool(let flag): return text ?? "\(flag)"
        case .int(let number): return text ?? "\(number)"
        case .double(let number): return text ?? "\(number)"
        }
    }
}
