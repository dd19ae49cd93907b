/// The `remote_config` part of `GET /api/v1/status`: the reported state of remote configuration
/// (the document retained on `wharf/{gateway}/config/reported`, docs/remote-config.md) plus what only
/// the gateway itself shows: the countdown and where each section of the configuration came from.
///
/// Versions absent (the local file alone) are written as `null`, as in the reported document.
public struct RemoteConfigStatus: Codable, Sendable, Equatable {
    /// Whether remote configuration is enabled in the local file.
    public var enabled: Bool
    /// The prefix of the control topics, such as `wharf/gw1/config`.
    public var topicPrefix: String
    /// The highest desired version seen; nil when none was.
    public var desiredVersion: UInt64?
    /// The version running; nil when the local file runs alone.
    public var runningVersion: UInt64?
    /// The last-known-good version; nil when it is the local file alone.
    public var lastKnownGoodVersion: UInt64?
    /// Whether the running configuration is provisional (not yet confirmed).
    public var provisional: Bool
    /// The last attempt, if there was one.
    public var lastAttempt: RemoteConfigAttemptStatus?
    /// Seconds of running daemon left to confirm the provisional configuration; nil when none is.
    public var confirmationSecondsLeft: Double?
    /// The hash of the effective configuration running.
    public var effectiveConfigHash: String
    /// When the state last changed (wall-clock seconds).
    public var updatedAt: Int64
    /// Where each part of the configuration came from: a top-level section (`log`) or an allowed part
    /// (`uplink.forward`) → `local` or `remote:VERSION`.
    public var sources: [String: String]

    /// Creates the entry.
    public init(
        enabled: Bool,
        topicPrefix: String,
        desiredVersion: UInt64? = nil,
        runningVersion: UInt64? = nil,
        lastKnownGoodVersion: UInt64? = nil,
        provisional: Bool = false,
        lastAttempt: RemoteConfigAttemptStatus? = nil,
        confirmationSecondsLeft: Double? = nil,
        effectiveConfigHash: String,
        updatedAt: Int64,
        sources: [String: String] = [:]
    ) {
        self.enabled = enabled
        self.topicPrefix = topicPrefix
        self.desiredVersion = desiredVersion
        self.runningVersion = runningVersion
        self.lastKnownGoodVersion = lastKnownGoodVersion
        self.provisional = provisional
        self.lastAttempt = lastAttempt
        self.confirmationSecondsLeft = confirmationSecondsLeft
        self.effectiveConfigHash = effectiveConfigHash
        self.updatedAt = updatedAt
        self.sources = sources
    }

    enum CodingKeys: String, CodingKey {
        case enabled, topicPrefix, desiredVersion, runningVersion, lastKnownGoodVersion, provisional, lastAttempt
        case confirmationSecondsLeft, effectiveConfigHash, updatedAt, sources
    }

    /// Writes absent versions and attempt as `null` (as the reported document does) instead of leaving
    /// the keys out.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(enabled, forKey: .enabled)
        try container.encode(topicPrefix, forKey: .topicPrefix)
        try container.encode(desiredVersion, forKey: .desiredVersion)
        try container.encode(runningVersion, forKey: .runningVersion)
        try container.encode(lastKnownGoodVersion, forKey: .lastKnownGoodVersion)
        try container.encode(provisional, forKey: .provisional)
        try container.encode(lastAttempt, forKey: .lastAttempt)
        try container.encode(confirmationSecondsLeft, forKey: .confirmationSecondsLeft)
        try container.encode(effectiveConfigHash, forKey: .effectiveConfigHash)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(sources, forKey: .sources)
    }
}

/// One attempt to apply a desired document, as reported.
public struct RemoteConfigAttemptStatus: Codable, Sendable, Equatable {
    /// The document's version.
    public var version: UInt64
    /// `applied`, `rejected`, `rolled-back` or `pending-confirmation`.
    public var result: String
    /// The sections the document changed.
    public var sections: [String]
    /// Why it was rejected or rolled back, each with its key path.
    public var errors: [RemoteConfigErrorStatus]
    /// When the attempt started (wall-clock seconds).
    public var startedAt: Int64
    /// When it ended; nil while pending confirmation.
    public var finishedAt: Int64?

    /// Creates an attempt entry.
    public init(
        version: UInt64, result: String, sections: [String] = [], errors: [RemoteConfigErrorStatus] = [],
        startedAt: Int64, finishedAt: Int64? = nil
    ) {
        self.version = version
        self.result = result
        self.sections = sections
        self.errors = errors
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    enum CodingKeys: String, CodingKey {
        case version, result, sections, errors, startedAt, finishedAt
    }

    /// Writes an unfinished attempt's `finished_at` as `null`, as the reported document does.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(version, forKey: .version)
        try container.encode(result, forKey: .result)
        try container.encode(sections, forKey: .sections)
        try container.encode(errors, forKey: .errors)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
    }
}

/// One problem of a document, with its key path (empty when it concerns the document as a whole).
public struct RemoteConfigErrorStatus: Codable, Sendable, Equatable {
    /// The key path, such as `config.adapters[0].port`.
    public var path: String
    /// What is wrong.
    public var message: String

    /// Creates an entry.
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
}
