/// The version rule: a document applies only when its version is greater than the last applied one.
///
/// Equal is refused too: a retained document seen again after a reconnect is not applied twice,
/// and a replayed older document never rolls a gateway back.
public enum VersionRule {
    /// The problem with `version`, given the last applied version (`nil` when none was ever applied).
    public static func problem(version: Int, lastApplied: Int?) -> RemoteConfigProblem? {
        guard let lastApplied, version <= lastApplied else { return nil }
        let relation = version == lastApplied ? "the version already applied" : "older than the last applied version"
        return RemoteConfigProblem(
            .staleVersion, path: "version",
            "version \(version) is \(relation) (\(lastApplied)); a document must have a greater version")
    }
}
