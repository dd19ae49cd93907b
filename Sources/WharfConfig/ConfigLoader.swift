/// Turns configuration text into a validated `WharfConfiguration`, or into every problem found.
///
/// Pure: it never reads files. The daemon reads `/etc/wharf/wharf.yaml` (or receives a remote
/// push) and passes the text and a name to show in messages.
public enum ConfigLoader {
    /// Parses and validates a YAML document; returns the configuration or every problem found.
    public static func load(yaml: String, file: String) -> Result<WharfConfiguration, ConfigError> {
        let root: ConfigNode?
        let parseIssues: [ConfigIssue]
        switch ConfigDocument.parse(yaml: yaml, file: file) {
        case .failure(let error): return .failure(error)
        case .success(let parsed): (root, parseIssues) = parsed
        }
        let reader = ConfigReader(root ?? ConfigNode(.null, file: file), log: IssueLog(issues: parseIssues))
        let configuration = WharfConfiguration(reading: reader)
        let issues = reader.issues
        return issues.isEmpty ? .success(configuration) : .failure(ConfigError(issues: issues))
    }

    /// Same for a JSON document (remote pushes use JSON with the same schema).
    ///
    /// JSON is read by the YAML parser, of which it is (for configuration documents) a subset,
    /// so positions and messages are the same as for the file.
    public static func load(json: String, file: String) -> Result<WharfConfiguration, ConfigError> {
        load(yaml: json, file: file)
    }

    /// Parses a YAML (or JSON) document into a positioned tree without applying the schema, for
    /// tools that show or compare raw documents. An empty document gives an empty value.
    public static func parse(yaml: String, file: String) -> Result<ConfigNode, ConfigError> {
        switch ConfigDocument.parse(yaml: yaml, file: file) {
        case .failure(let error):
            return .failure(error)
        case .success(let (root, issues)):
            if !issues.isEmpty { return .failure(ConfigError(issues: issues)) }
            return .success(root ?? ConfigNode(.null, file: file))
        }
    }
}
