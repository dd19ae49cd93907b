extension AdminRoutes {
    /// The last hour of samples (`GET`).
    public static let historyPath = "\(apiPrefix)/history"

    /// `{"interval_seconds", "samples": [...]}`, oldest first; no samples when none are taken.
    public func historySamples() -> Reply {
        let seconds = history.map { HistoryRecorder.seconds($0.interval) } ?? 0
        return consoleJSON(HistoryDocument(intervalSeconds: seconds, samples: history?.samples ?? []))
    }
}

/// The document of `GET /api/v1/history`.
struct HistoryDocument: Encodable {
    var intervalSeconds: Double
    var samples: [HistorySample]

    enum CodingKeys: String, CodingKey {
        case intervalSeconds = "interval_seconds"
        case samples
    }
}
