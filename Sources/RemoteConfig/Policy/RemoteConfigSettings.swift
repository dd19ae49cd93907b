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

    /// The settings of a validated `remote_config` section.
    public init(_ section: RemoteConfigConfig) {
        self.init(allow: section.allow, allowUnsigned: section.allowUnsigned)
    }

    /// Reads the `remote_config` section of a local configuration tree with the file's schema; the
    /// issues found, with key paths.
    public static func read(from root: ConfigNode) -> (settings: RemoteConfigSettings, issues: [ConfigIssue]) {
        let reader = ConfigReader(root).section("remote_config")
        let section = RemoteConfigConfig(reading: reader)
        return (RemoteConfigSettings(section), reader.issues)
    }
}
