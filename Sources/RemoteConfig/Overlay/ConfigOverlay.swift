public import WharfConfig

/// The effective configuration: the local file's tree with the sections a document sends put in
/// place of the local ones, validated by the same reader as the file.
public enum ConfigOverlay {
    /// Sections kept out of the file schema's reading: `acl` is the ACL file's content, not a setting.
    static let outsideSchema = ["acl"]

    /// The result of a valid overlay.
    public struct Effective: Sendable, Equatable {
        /// The effective tree (local nodes keep their file and lines, remote ones name the document).
        public var tree: ConfigNode
        /// The validated configuration.
        public var configuration: WharfConfiguration
        /// The ACL file content the document sends (`acl`), if it sends one.
        public var acl: String?
        /// The parts the document replaces, as named in `remote_config.allow` (`adapters`, `uplink.forward`).
        public var replaced: [String]
    }

    /// The effective tree: `local` with each part of `parts` replacing the local one whole.
    public static func tree(local: ConfigNode, parts: [SectionPolicy.Part], file: String) -> ConfigNode {
        var root = local
        if !isObject(root) { root = ConfigNode(.object([]), file: local.file, path: "") }
        for part in parts {
            let node = part.value.configNode(file: file, path: part.keys.reduce("") { ConfigPath.key($1, in: $0) })
            root = replacing(part.keys[...], in: root, with: node)
        }
        return root
    }

    /// Overlays `config` on `local` and validates the result with the file's schema; every problem,
    /// each with its key path, as `wharfctl check` reports a file (remote values are in `file`).
    ///
    /// Checks only the configuration: the section policy (`SectionPolicy`) decides beforehand which
    /// parts a document may send; parts it forbids are left out here.
    public static func validate(local: ConfigNode, config: JSONValue, allow: [String], file: String)
        -> Result<Effective, RemoteConfigRejection>
    {
        let parts = SectionPolicy.classify(config: config, allow: allow).parts
        let effective = tree(local: local, parts: parts, file: file)
        var problems: [RemoteConfigProblem] = []
        var acl: String?
        if let part = parts.first(where: { $0.keys == ["acl"] }) {
            if case .string(let text) = part.value {
                acl = text
            } else {
                let issue = ConfigIssue(
                    file: file, path: "acl",
                    message: "expected the ACL file's content as a string, got \(part.value.kind)")
                problems.append(RemoteConfigProblem(.invalidConfig, path: "acl", issue.message, issue: issue))
            }
        }
        var schemaTree = effective
        if case .object(let members) = effective.content {
            schemaTree.content = .object(members.filter { !outsideSchema.contains($0.key) })
        }
        var configuration = WharfConfiguration.default
        var issues: [ConfigIssue] = []
        switch ConfigLoader.load(tree: schemaTree) {
        case .success(let loaded): configuration = loaded
        case .failure(let error): issues += error.issues
        }
        problems += issues.map { RemoteConfigProblem(.invalidConfig, path: $0.path, $0.message, issue: $0) }
        guard problems.isEmpty else { return .failure(RemoteConfigRejection(problems)) }
        return .success(Effective(tree: effective, configuration: configuration, acl: acl, replaced: parts.map(\.name)))
    }

    private static func isObject(_ node: ConfigNode) -> Bool {
        if case .object = node.content { return true }
        return false
    }

    /// `node` with the value at `keys` replaced (created when absent, a non-mapping parent made a mapping).
    private static func replacing(_ keys: ArraySlice<String>, in node: ConfigNode, with value: ConfigNode) -> ConfigNode
    {
        guard let key = keys.first else { return value }
        var members: [ConfigMember] = []
        if case .object(let existing) = node.content { members = existing }
        var result = node
        if let index = members.firstIndex(where: { $0.key == key }) {
            members[index].value = replacing(keys.dropFirst(), in: members[index].value, with: value)
        } else {
            let childPath = ConfigPath.key(key, in: node.path)
            let empty = ConfigNode(.object([]), file: value.file, path: childPath)
            members.append(ConfigMember(key: key, value: replacing(keys.dropFirst(), in: empty, with: value)))
        }
        result.content = .object(members)
        return result
    }
}
