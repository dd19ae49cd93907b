/// Validation of a tree built elsewhere than from YAML text (a remote document overlaid on the file).
extension ConfigLoader {
    /// Applies the schema to an already built tree; returns the configuration or every problem found.
    ///
    /// The same reading as `load(yaml:file:)`, so the issues carry each node's own file, line and key
    /// path: a tree that mixes nodes from the local file and from a remote document reports each
    /// problem where it was written.
    public static func load(tree: ConfigNode) -> Result<WharfConfiguration, ConfigError> {
        let reader = ConfigReader(tree)
        let configuration = WharfConfiguration(reading: reader)
        let issues = reader.issues
        return issues.isEmpty ? .success(configuration) : .failure(ConfigError(issues: issues))
    }
}
