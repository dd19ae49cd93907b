#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The daemon's answer to `POST /api/v1/remote-config`, as `wharfctl config apply` reads it.
struct ApplyOutcomeView: Decodable, Equatable {
    var result: String
    var version: UInt64?
    var errors: [RemoteConfigReportView.Problem]
    var message: String

    enum CodingKeys: String, CodingKey {
        case result, version, errors, message
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        result = try container.decode(String.self, forKey: .result)
        version = try container.decodeIfPresent(UInt64.self, forKey: .version)
        errors = try container.decodeIfPresent([RemoteConfigReportView.Problem].self, forKey: .errors) ?? []
        message = try container.decodeIfPresent(String.self, forKey: .message) ?? ""
    }

    /// The outcome in `body`, or nil when it is not one.
    static func parse(_ body: String) -> ApplyOutcomeView? {
        try? JSONDecoder().decode(ApplyOutcomeView.self, from: Data(body.utf8))
    }

    /// `version 7: pending-confirmation`, then the message and each problem as `path: message`.
    var lines: [String] {
        var lines = ["\(version.map { "version \($0)" } ?? "document"): \(result)"]
        if !message.isEmpty { lines.append(message) }
        lines += errors.map(\.line)
        return lines
    }
}
