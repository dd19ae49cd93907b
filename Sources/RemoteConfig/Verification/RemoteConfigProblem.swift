public import WharfConfig

/// One reason a remote configuration document is refused, with the key path it concerns.
public struct RemoteConfigProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of refusal this is; the reported state and the tests match on it.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// Not JSON, or not a document of the expected shape.
        case malformed
        /// No signature, and the local file does not allow unsigned documents.
        case unsigned
        /// `key_id` names no file in the trusted-keys directory.
        case unknownKeyID = "unknown-key-id"
        /// The signature does not match the document: a changed payload, version, gateway, time
        /// or key id, or another key's signature (Ed25519 cannot tell these apart, and need not).
        case badSignature = "bad-signature"
        /// The document is for another gateway.
        case wrongGateway = "wrong-gateway"
        /// `version` is not greater than the last applied one.
        case staleVersion = "stale-version"
        /// `not_before` is still in the future.
        case notYetValid = "not-yet-valid"
        /// `expires` has passed.
        case expired
        /// The document changes a section the local file keeps local.
        case forbiddenSection = "forbidden-section"
        /// The effective configuration is invalid, as `wharfctl check` would report it.
        case invalidConfig = "invalid-config"
    }

    /// What kind of refusal this is.
    public var kind: Kind
    /// Key path in the document (`version`, `config.uplink.host`); for `invalidConfig`, the path in
    /// the configuration as the file validator reports it.
    public var path: String
    /// What is wrong, in plain words.
    public var message: String
    /// For `invalidConfig`: the validator's issue, with its own file, line and column.
    public var issue: ConfigIssue?

    /// Creates a problem.
    public init(_ kind: Kind, path: String = "", _ message: String, issue: ConfigIssue? = nil) {
        self.kind = kind
        self.path = path
        self.message = message
        self.issue = issue
    }

    /// The problem as a configuration issue of the document named `file` (such as `remote:42`).
    public func configIssue(file: String) -> ConfigIssue {
        issue ?? ConfigIssue(file: file, path: path, message: message)
    }

    /// `path: message`, or the validator's `file:line:column: path: message`.
    public var description: String {
        if let issue { return issue.description }
        return path.isEmpty ? message : "\(path): \(message)"
    }
}

/// A refused document: every problem found, in the order the checks ran.
public struct RemoteConfigRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// The problems; never empty.
    public var problems: [RemoteConfigProblem]

    /// Creates a rejection.
    public init(_ problems: [RemoteConfigProblem]) {
        self.problems = problems
    }

    /// The kinds of the problems, for tests and the reported state.
    public var kinds: [RemoteConfigProblem.Kind] { problems.map(\.kind) }

    /// One line per problem.
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
