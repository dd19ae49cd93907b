/// The answer to `POST /api/v1/remote-config` (a signed document handed to the gateway locally, as
/// `wharfctl config apply` does): what became of it.
public struct RemoteConfigApplyOutcome: Codable, Sendable, Equatable {
    /// `pending-confirmation`, `applied`, `rejected`, `ignored` (the version was already applied or
    /// seen, or another attempt is under way) or `unavailable` (remote configuration is not enabled).
    public var result: String
    /// The document's version, when it could be read.
    public var version: UInt64?
    /// Every problem of a rejected document, with its key path.
    public var errors: [RemoteConfigErrorStatus]
    /// One sentence for people.
    public var message: String

    /// Creates an outcome.
    public init(result: String, version: UInt64? = nil, errors: [RemoteConfigErrorStatus] = [], message: String) {
        self.result = result
        self.version = version
        self.errors = errors
        self.message = message
    }

    /// The outcome when the daemon does not run remote configuration.
    public static let notEnabled = RemoteConfigApplyOutcome(
        result: "unavailable", message: "remote configuration is not enabled")

    /// The HTTP status of the answer: 200 taken (`pending-confirmation`, `applied`), 422 `rejected`,
    /// 409 `ignored`, 503 `unavailable`, 500 for a result this version does not know.
    public var httpStatus: Int {
        switch result {
        case "pending-confirmation", "applied": 200
        case "rejected": 422
        case "ignored": 409
        case "unavailable": 503
        default: 500
        }
    }

    enum CodingKeys: String, CodingKey {
        case result, version, errors, message
    }

    /// Writes an unknown version as `null` rather than leaving the key out.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(result, forKey: .result)
        try container.encode(version, forKey: .version)
        try container.encode(errors, forKey: .errors)
        try container.encode(message, forKey: .message)
    }
}
