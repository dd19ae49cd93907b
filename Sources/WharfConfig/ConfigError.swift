/// Every problem found in a configuration document; loading fails with this when there is at least one.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The problems, in the order they appear in the document.
    public var issues: [ConfigIssue]

    /// Creates an error from its issues.
    public init(issues: [ConfigIssue]) {
        self.issues = issues
    }

    /// One line per issue, in the `file:line:column: path: message` format.
    public var description: String {
        issues.map(\.description).joined(separator: "\n")
    }
}
