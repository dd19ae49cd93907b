public import RemoteConfigState
import WharfSupport

/// Where remote configuration keeps its state, under `DATA_DIR/config/`: the record (`state`), each
/// staged document as received (`desired-VERSION.json`) and the ACL content it sends (`acl-VERSION`).
/// Every write is crash-safe (temporary file, fsync, rename, fsync of the directory).
public struct RemoteConfigFiles: Sendable {
    /// The directory, `DATA_DIR/config`.
    public let directory: String

    /// The files under `dataDirectory`.
    public init(dataDirectory: String) {
        directory = dataDirectory + "/config"
    }

    /// The record's path.
    public var recordPath: String { directory + "/state" }

    /// The path of the staged document of `version`.
    public func documentPath(_ version: UInt64) -> String { directory + "/desired-\(version).json" }

    /// The path of the ACL content of `version`.
    public func aclPath(_ version: UInt64) -> String { directory + "/acl-\(version)" }

    /// Creates the directory if needed.
    public func prepare() throws(StateFile.Failure) {
        if let reason = Directory.create(directory) {
            throw StateFile.Failure(description: "cannot create \(directory): \(reason)")
        }
    }

    /// The record, or `nil` when none was written yet.
    public func readRecord() throws(StateFile.Failure) -> RemoteConfigRecord? {
        guard let bytes = try StateFile.read(recordPath) else { return nil }
        do {
            return try RemoteConfigRecord(decoding: String(decoding: bytes, as: UTF8.self))
        } catch {
            throw StateFile.Failure(description: "\(recordPath): \(error)")
        }
    }

    /// Writes the record.
    public func writeRecord(_ record: RemoteConfigRecord) throws(StateFile.Failure) {
        try StateFile.write(recordPath, Array(record.encoded().utf8))
    }

    /// The staged document of `version`, or `nil` when it is not on disk.
    public func readDocument(_ version: UInt64) throws(StateFile.Failure) -> [UInt8]? {
        try StateFile.read(documentPath(version))
    }

    /// Stages a document and the ACL content it sends (written first, so a staged document never
    /// lacks its ACL).
    public func stage(version: UInt64, document: [UInt8], acl: String?) throws(StateFile.Failure) {
        if let acl { try StateFile.write(aclPath(version), Array(acl.utf8)) }
        try StateFile.write(documentPath(version), document)
    }

    /// Removes every staged document and ACL but those of `keeping`.
    public func removeStaged(keeping: Set<UInt64>) throws(StateFile.Failure) {
        for name in try StateFile.list(directory) ?? [] {
            guard let version = Self.version(inFileName: name), !keeping.contains(version) else { continue }
            try StateFile.remove(directory + "/" + name)
        }
    }

    /// The version a staged file's name carries (`desired-7.json`, `acl-7`, and their `.tmp` leftovers).
    static func version(inFileName name: String) -> UInt64? {
        var stem = Substring(name)
        if stem.hasSuffix(".tmp") { stem = stem.dropLast(4) }
        if stem.hasPrefix("desired-"), stem.hasSuffix(".json") {
            return UInt64(stem.dropFirst(8).dropLast(5))
        }
        if stem.hasPrefix("acl-") { return UInt64(stem.dropFirst(4)) }
        return nil
    }
}
