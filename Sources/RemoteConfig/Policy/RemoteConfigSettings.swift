public import WharfConfig

/// The local file's `remote_config` section, as far as checking documents needs it.
public struct RemoteConfigSettings: Sendable, Equatable {
    /// The sections the cloud may change (`remote_config.allow`); replaces the default when given.
    public var allow: [String]
    /// Whether unsigned documents are accepted (`remote_config.allow_unsigned`, default false; labs only).
    public var allowUnsigned: Bool

    /// Creates settings; the defaults are the safe ones.
    public init(allow: [String] = SectionPolicy.defaultAllow, allowUnsigned: Bool = false) {
        self.allow = allow
        self.allowUnsigned = allowUnsigned
    }

    /// Reads the `remote_config` section of a local configuration tree; the issues found, with key paths.
    ///
    /// Only `allow` and `allow_unsigned` are read here; other keys of the section (the apply and
    /// confirmation settings) are left to their own reader, so unknown keys are not reported.
    public static func read(from root: ConfigNode) -> (settings: RemoteConfigSettings, issues: [ConfigIssue]) {
        var settings = RemoteConfigSettings()
        guard root["remote_config"]?.isNull == false else { return (settings, []) }
        let reader = ConfigReader(root).section("remote_config")
        settings.allowUnsigned = reader.bool("allow_unsigned", default: false)
        if let entries = reader.list("allow") {
            var allow: [String] = []
            for entry in entries {
                guard let name = reader.string(entry) else { continue }
                let components = name.split(separator: ".", omittingEmptySubsequences: false)
                guard (1...2).contains(components.count), let first = components.first,
                    SectionPolicy.knownSections.contains(String(first)), components.allSatisfy({ !$0.isEmpty })
                else {
                    reader.report(
                        "expected a section (\(SectionPolicy.knownSections.joined(separator: ", "))) "
                            + "or a key of one such as 'uplink.forward', got \(entry.quoted)",
                        at: entry
                    )
                    continue
                }
                if !allow.contains(name) { allow.append(name) }
            }
            // `allow: []` is an empty list, not an absent one: the cloud may change nothing.
            settings.allow = allow
        }
        return (settings, reader.issues)
    }
}
