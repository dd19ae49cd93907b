#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The daemon's answer to `GET /api/v1/queue/dead-letters`, as `wharfctl queue dead-letters` reads
/// it: the members it shows; members added later are ignored.
struct DeadLetterListView: Decodable, Equatable {
    /// One dead letter.
    struct Entry: Decodable, Equatable {
        var id: Int64
        var topic: String
        var reasonCode: Int
        var reason: String
        var reasonString: String?
        var rule: String
        var payloadBytes: Int
        var deadAt: String

        enum CodingKeys: String, CodingKey {
            case id, topic, reason, rule
            case reasonCode = "reason_code"
            case reasonString = "reason_string"
            case payloadBytes = "payload_bytes"
            case deadAt = "dead_at"
        }
    }

    /// Rows in the table, listed or not.
    var count: Int
    /// Bytes in the table.
    var bytes: Int
    /// The newest rows, newest first.
    var deadLetters: [Entry]

    enum CodingKeys: String, CodingKey {
        case count, bytes
        case deadLetters = "dead_letters"
    }

    /// The list in `body`, or the decoder's reason.
    static func parse(_ body: String) throws -> DeadLetterListView {
        try JSONDecoder().decode(DeadLetterListView.self, from: Data(body.utf8))
    }

    /// How many were cleared, from the answer to `POST /api/v1/queue/dead-letters/clear`.
    static func cleared(_ body: String) -> Int? {
        struct Clearance: Decodable { var cleared: Int }
        return try? JSONDecoder().decode(Clearance.self, from: Data(body.utf8)).cleared
    }
}
