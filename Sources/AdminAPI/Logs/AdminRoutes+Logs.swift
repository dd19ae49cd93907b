#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension AdminRoutes {
    /// The last warning-or-worse log lines (`GET`).
    public static let logsPath = "\(apiPrefix)/logs"

    /// `{"capacity", "dropped", "lines": [...]}`, oldest line first; an empty ring of capacity 0
    /// when none is kept.
    public func logLines() -> Reply {
        let (lines, dropped) = logs?.snapshot() ?? ([], 0)
        return consoleJSON(LogsDocument(capacity: logs?.capacity ?? 0, dropped: dropped, lines: lines))
    }

    /// `value` as indented JSON with its own (snake_case) keys; log metadata keys stay as written.
    func consoleJSON(_ value: some Encodable) -> Reply {
        do {
            let data = try ConsoleJSON.encoder(pretty: true).encode(value)
            return Reply(status: 200, contentType: Self.json, body: String(decoding: data, as: UTF8.self) + "\n")
        } catch {
            return Reply(status: 500, contentType: Self.text, body: "cannot encode the document: \(error)\n")
        }
    }
}

/// The document of `GET /api/v1/logs`.
struct LogsDocument: Encodable {
    var capacity: Int
    var dropped: Int
    var lines: [LogLine]
}

/// The JSON encoder of the console's documents (logs, history, events): keys as their types
/// spell them (snake_case), sorted, so that log metadata keys are never rewritten.
enum ConsoleJSON {
    /// Indented for the API's answers, on one line for event streams.
    static func encoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
