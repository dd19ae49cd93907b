#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Remote configuration's reported state as `wharfctl` reads it: the document a gateway retains on
/// `{prefix}/reported`, and the `remote_config` member of `/api/v1/status` (the same members, plus
/// `enabled`, `topic_prefix`, `confirmation_seconds_left` and `sources`). Members added later are
/// ignored.
///
/// Decoded with explicit key names and no key strategy, so that the keys of `sources`
/// (`broker.max_connections`) are kept as they are.
struct RemoteConfigReportView: Decodable, Equatable {
    /// One problem, with its key path (empty when it concerns the document as a whole).
    struct Problem: Decodable, Equatable {
        var path: String
        var message: String

        /// `path: message`, or the message alone.
        var line: String { path.isEmpty ? message : "\(path): \(message)" }
    }

    /// The last attempt to apply a document.
    struct Attempt: Decodable, Equatable {
        var version: UInt64
        var result: String
        var sections: [String]
        var errors: [Problem]
        var startedAt: Int64?
        var finishedAt: Int64?

        enum CodingKeys: String, CodingKey {
            case version, result, sections, errors
            case startedAt = "started_at"
            case finishedAt = "finished_at"
        }

        init(
            version: UInt64, result: String, sections: [String] = [], errors: [Problem] = [],
            startedAt: Int64? = nil, finishedAt: Int64? = nil
        ) {
            self.version = version
            self.result = result
            self.sections = sections
            self.errors = errors
            self.startedAt = startedAt
            self.finishedAt = finishedAt
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            version = try container.decode(UInt64.self, forKey: .version)
            result = try container.decode(String.self, forKey: .result)
            sections = try container.decodeIfPresent([String].self, forKey: .sections) ?? []
            errors = try container.decodeIfPresent([Problem].self, forKey: .errors) ?? []
            startedAt = try container.decodeIfPresent(Int64.self, forKey: .startedAt)
            finishedAt = try container.decodeIfPresent(Int64.self, forKey: .finishedAt)
        }
    }

    var enabled: Bool?
    var topicPrefix: String?
    var desiredVersion: UInt64?
    var runningVersion: UInt64?
    var lastKnownGoodVersion: UInt64?
    var provisional: Bool
    var lastAttempt: Attempt?
    var confirmationSecondsLeft: Double?
    var effectiveConfigHash: String?
    var updatedAt: Int64?
    var sources: [String: String]?

    enum CodingKeys: String, CodingKey {
        case enabled, provisional, sources
        case topicPrefix = "topic_prefix"
        case desiredVersion = "desired_version"
        case runningVersion = "running_version"
        case lastKnownGoodVersion = "last_known_good_version"
        case lastAttempt = "last_attempt"
        case confirmationSecondsLeft = "confirmation_seconds_left"
        case effectiveConfigHash = "effective_config_hash"
        case updatedAt = "updated_at"
    }

    /// A report from its parts; for tests and for building expectations.
    init(
        runningVersion: UInt64? = nil, lastKnownGoodVersion: UInt64? = nil, provisional: Bool = false,
        lastAttempt: Attempt? = nil
    ) {
        self.runningVersion = runningVersion
        self.lastKnownGoodVersion = lastKnownGoodVersion
        self.provisional = provisional
        self.lastAttempt = lastAttempt
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled)
        topicPrefix = try container.decodeIfPresent(String.self, forKey: .topicPrefix)
        desiredVersion = try container.decodeIfPresent(UInt64.self, forKey: .desiredVersion)
        runningVersion = try container.decodeIfPresent(UInt64.self, forKey: .runningVersion)
        lastKnownGoodVersion = try container.decodeIfPresent(UInt64.self, forKey: .lastKnownGoodVersion)
        provisional = try container.decodeIfPresent(Bool.self, forKey: .provisional) ?? false
        lastAttempt = try container.decodeIfPresent(Attempt.self, forKey: .lastAttempt)
        confirmationSecondsLeft = try container.decodeIfPresent(Double.self, forKey: .confirmationSecondsLeft)
        effectiveConfigHash = try container.decodeIfPresent(String.self, forKey: .effectiveConfigHash)
        updatedAt = try container.decodeIfPresent(Int64.self, forKey: .updatedAt)
        sources = try container.decodeIfPresent([String: String].self, forKey: .sources)
    }

    /// The report in `bytes`, or why it is not one.
    static func parse(_ bytes: [UInt8]) -> Result<RemoteConfigReportView, ReportError> {
        do {
            return .success(try JSONDecoder().decode(RemoteConfigReportView.self, from: Data(bytes)))
        } catch let error as DecodingError {
            return .failure(ReportError(description: Self.describe(error)))
        } catch {
            return .failure(ReportError(description: "\(error)"))
        }
    }

    /// The `remote_config` member of a status document; nil when it is absent or `null` (remote
    /// configuration not enabled).
    static func fromStatus(_ text: String) throws -> RemoteConfigReportView? {
        struct Wrapper: Decodable {
            var remoteConfig: RemoteConfigReportView?
            enum CodingKeys: String, CodingKey { case remoteConfig = "remote_config" }
        }
        return try JSONDecoder().decode(Wrapper.self, from: Data(text.utf8)).remoteConfig
    }

    /// A decoding error in a few words, with the key path (`last_attempt.version: ...`).
    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            var text = ""
            for key in context.codingPath {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += (text.isEmpty ? "" : ".") + key.stringValue
                }
            }
            return text.isEmpty ? "" : text + ": "
        }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return path(context) + context.debugDescription
        case .keyNotFound(let key, let context):
            return path(context) + "missing member '\(key.stringValue)'"
        case .dataCorrupted(let context):
            return path(context) + "not JSON: " + context.debugDescription
        @unknown default:
            return "\(error)"
        }
    }
}

/// Why a payload is not a report.
struct ReportError: Error, Equatable, CustomStringConvertible {
    var description: String
}
