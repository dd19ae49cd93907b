/// What the host keeps on disk between steps of the lifecycle: the last-known-good, the version floor,
/// the provisional marker with its countdown and start count, and the last attempt for the report.
/// It is the single commit point: setting or clearing the provisional marker and promoting a version
/// to last-known-good are each one atomic write of this record.
public struct RemoteConfigRecord: Sendable, Hashable {
    /// The version of the last-known-good remote configuration; 0 when the local file runs alone.
    public var lastKnownGood: UInt64
    /// Every version up to this one was applied or rejected and is never applied again.
    public var highestVersion: UInt64
    /// The highest version of a desired document seen.
    public var desiredSeen: UInt64
    /// The provisional marker: the configuration being tried, until confirmed or rolled back.
    public var provisional: Candidate?
    /// The time left of the provisional countdown, in nanoseconds of running daemon, as of the last
    /// checkpoint.
    public var remainingNanoseconds: UInt64
    /// When the daemon started with the provisional configuration (wall-clock seconds), newest last.
    public var provisionalStarts: [Int64]
    /// The last attempt, for the reported state.
    public var lastAttempt: Attempt?
    /// When the record last changed (wall-clock seconds).
    public var updatedAt: Int64

    /// Creates a record.
    public init(
        lastKnownGood: UInt64 = 0, highestVersion: UInt64 = 0, desiredSeen: UInt64 = 0, provisional: Candidate? = nil,
        remainingNanoseconds: UInt64 = 0, provisionalStarts: [Int64] = [], lastAttempt: Attempt? = nil,
        updatedAt: Int64 = 0
    ) {
        self.lastKnownGood = lastKnownGood
        self.highestVersion = highestVersion
        self.desiredSeen = desiredSeen
        self.provisional = provisional
        self.remainingNanoseconds = remainingNanoseconds
        self.provisionalStarts = provisionalStarts
        self.lastAttempt = lastAttempt
        self.updatedAt = updatedAt
    }

    /// The record of a gateway that never accepted a remote configuration.
    public static let initial = RemoteConfigRecord()

    /// The version running: the provisional one if any, else the last-known-good (0: the local file).
    public var runningVersion: UInt64 { provisional?.version ?? lastKnownGood }
}
