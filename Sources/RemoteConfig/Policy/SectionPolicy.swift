import WharfConfig

/// Which sections a remote document may change (`remote_config.allow` in the local file).
///
/// An entry names a top-level section (`adapters`, `log`, `acl`) or one key of a section
/// (`uplink.forward`). A document's section is allowed when it is named, or when each of its keys
/// is named as `section.key`; anything else rejects the whole document, naming what it touched.
public enum SectionPolicy {
    /// What the cloud may change when the local file says nothing (see `RemoteConfigConfig.defaultAllow`).
    public static let defaultAllow = RemoteConfigConfig.defaultAllow

    /// The sections an allow entry may name (see `RemoteConfigConfig.knownSections`).
    public static let knownSections = RemoteConfigConfig.knownSections

    /// One part of the configuration a document replaces whole: a section, or one key of a section.
    public struct Part: Sendable, Equatable {
        /// `["adapters"]` or `["uplink", "forward"]`.
        public var keys: [String]
        /// The value the document gives it.
        public var value: JSONValue

        /// The dotted name (`uplink.forward`), as written in `remote_config.allow`.
        public var name: String { keys.joined(separator: ".") }
    }

    /// A problem for each part of `config` that `allow` does not cover, with its key path in the document.
    public static func problems(config: JSONValue, allow: [String]) -> [RemoteConfigProblem] {
        classify(config: config, allow: allow).problems
    }

    /// The parts `config` replaces, and a problem for each part that `allow` does not cover.
    public static func classify(config: JSONValue, allow: [String]) -> (parts: [Part], problems: [RemoteConfigProblem])
    {
        guard case .object(let sections) = config else { return ([], []) }
        var parts: [Part] = []
        var problems: [RemoteConfigProblem] = []
        for section in sections {
            let path = JSONPath.key(section.key, in: "config")
            if allow.contains(section.key) {
                parts.append(Part(keys: [section.key], value: section.value))
                continue
            }
            let prefix = section.key + "."
            let allowedKeys = allow.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
            guard !allowedKeys.isEmpty, case .object(let members) = section.value else {
                problems.append(forbidden(section.key, path: path, allow: allow))
                continue
            }
            for member in members {
                if allowedKeys.contains(member.key) {
                    parts.append(Part(keys: [section.key, member.key], value: member.value))
                } else {
                    problems.append(
                        forbidden(prefix + member.key, path: JSONPath.key(member.key, in: path), allow: allow))
                }
            }
        }
        return (parts, problems)
    }

    private static func forbidden(_ name: String, path: String, allow: [String]) -> RemoteConfigProblem {
        let allowed = allow.isEmpty ? "none" : allow.joined(separator: ", ")
        return RemoteConfigProblem(
            .forbiddenSection, path: path,
            "the section '\(name)' is kept local (remote_config.allow: \(allowed)); the whole document is rejected")
    }
}
