/// Why a store operation failed: a kind to branch on and a message for the log.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The category of a failure; compare with `==` or match with `case .diskFull:`.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private enum Code: String, Sendable, Hashable {
            case diskFull = "disk-full"
            case corrupt
            case queueFull = "queue-full"
            case io
            case closed
            case unsupportedVersion = "unsupported-version"
            case backlogFull = "backlog-full"
        }

        private let code: Code

        private init(_ code: Code) {
            self.code = code
        }

        /// SQLite reported `SQLITE_FULL`: the disk (or the configured page limit) has no room.
        public static let diskFull = Kind(.diskFull)
        /// The database file is damaged or is not a database.
        public static let corrupt = Kind(.corrupt)
        /// The forward queue reached its byte bound and the policy is reject-new.
        public static let queueFull = Kind(.queueFull)
        /// Any other SQLite or file-system failure.
        public static let io = Kind(.io)
        /// The database was closed before the operation ran.
        public static let closed = Kind(.closed)
        /// The file's schema is newer than this version of Wharf knows.
        public static let unsupportedVersion = Kind(.unsupportedVersion)
        /// `max_pending_bytes` of new data already wait in memory for the writer: the disk is
        /// slower than what arrives, and this write was refused rather than held.
        public static let backlogFull = Kind(.backlogFull)

        /// A short stable name for logs and metrics (`disk-full`, `queue-full`, ...).
        public var description: String { code.rawValue }
    }

    /// The category of the failure.
    public var kind: Kind
    /// A human-readable explanation naming the file or the SQLite error.
    public var message: String

    /// Creates an error.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// `kind: message`.
    public var description: String { "\(kind): \(message)" }

    static let closed = StoreError(.closed, "the store database is closed")
}
