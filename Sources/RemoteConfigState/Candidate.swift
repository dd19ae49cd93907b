/// A remote configuration accepted by the checks (signature, version, section policy, validation) and
/// about to be tried.
public struct Candidate: Sendable, Hashable {
    /// The document's version.
    public var version: UInt64
    /// The top-level sections it changes, in the order the host reports them.
    public var sections: [String]
    /// Whether a section it changes needs a restart of the daemon (else adapters and plugins are
    /// restarted live, as SIGHUP does).
    public var needsRestart: Bool

    /// Creates a candidate.
    public init(version: UInt64, sections: [String], needsRestart: Bool) {
        self.version = version
        self.sections = sections
        self.needsRestart = needsRestart
    }
}

/// One problem of an attempt, with the key path it concerns (`""` for the document as a whole), as
/// `wharfctl check` reports it.
public struct ReportedError: Sendable, Hashable {
    /// The key path, such as `adapters[0].port`; empty when the problem is not about one key.
    public var path: String
    /// What is wrong.
    public var message: String

    /// Creates an error.
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
}

/// The result of an attempt, as reported.
public enum AttemptResult: String, Sendable, Hashable, CaseIterable {
    /// Confirmed: it is the last-known-good.
    case applied
    /// Refused by the checks (or could not be staged); nothing changed.
    case rejected
    /// Tried and not confirmed: the last-known-good runs again.
    case rolledBack = "rolled-back"
    /// Running, provisional, until confirmed or rolled back.
    case pendingConfirmation = "pending-confirmation"
}

/// The last attempt to apply a document and how it ended.
public struct Attempt: Sendable, Hashable {
    /// The document's version.
    public var version: UInt64
    /// Its result so far.
    public var result: AttemptResult
    /// The sections it changes.
    public var sections: [String]
    /// Why it was rejected or rolled back.
    public var errors: [ReportedError]
    /// When it was received (wall-clock seconds since 1970).
    public var startedAt: Int64
    /// When it ended (wall-clock seconds); `nil` while pending.
    public var finishedAt: Int64?

    /// Creates an attempt.
    public init(
        version: UInt64, result: AttemptResult, sections: [String], errors: [ReportedError], startedAt: Int64,
        finishedAt: Int64?
    ) {
        self.version = version
        self.result = result
        self.sections = sections
        self.errors = errors
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}
