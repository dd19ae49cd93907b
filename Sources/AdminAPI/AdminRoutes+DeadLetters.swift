/// The dead-letter table of the forward queue: records the cloud refused for good, read and cleared
/// by the operator (`wharfctl queue dead-letters`).
extension AdminRoutes {
    /// The newest dead letters (`GET`, `?limit=N`).
    public static let deadLettersPath = "\(apiPrefix)/queue/dead-letters"
    /// The action that deletes every dead letter (`POST`, no body).
    public static let clearDeadLettersPath = "\(apiPrefix)/queue/dead-letters/clear"
    /// Dead letters listed when the query names no `limit`.
    public static let defaultDeadLetterLimit = 100
    /// The most dead letters one answer lists (the table's default bound): the answer is built
    /// whole in memory, payloads twice over (text and base64).
    public static let maxDeadLetterLimit = 10_000

    /// The table's totals and its newest records as JSON; 400 for a bad `limit`, 404 when the daemon
    /// has no queue, 500 when the store fails.
    public func deadLetters(query: String?) async -> Reply {
        let limit: Int
        switch Self.deadLetterLimit(query: query) {
        case .success(let value): limit = value
        case .failure(let problem): return Reply(status: 400, contentType: Self.text, body: problem.message + "\n")
        }
        do {
            return encoded(try await provider.deadLetters(limit: limit), what: "the dead letters")
        } catch {
            return Self.reply(error)
        }
    }

    /// Deletes every dead letter; `{"cleared": N}`, 404 when the daemon has no queue, 500 when the
    /// store fails.
    public func clearDeadLetters() async -> Reply {
        do {
            return encoded(DeadLetterClearance(cleared: try await provider.clearDeadLetters()), what: "the count")
        } catch {
            return Self.reply(error)
        }
    }

    /// A bad `limit` in the query.
    struct LimitProblem: Error {
        var message: String
    }

    /// The `limit` parameter of `query` (`limit=25`), ``defaultDeadLetterLimit`` when absent; whole
    /// numbers from 0 (the totals alone) to ``maxDeadLetterLimit``. Other parameters are ignored.
    static func deadLetterLimit(query: String?) -> Result<Int, LimitProblem> {
        let pairs = (query ?? "").split(separator: "&").map { $0.split(separator: "=", maxSplits: 1) }
        guard let pair = pairs.first(where: { $0.first == "limit" }) else { return .success(defaultDeadLetterLimit) }
        let text = pair.count == 2 ? String(pair[1]) : ""
        guard let value = Int(text), (0...maxDeadLetterLimit).contains(value) else {
            return .failure(
                LimitProblem(message: "limit=\(text): expected a whole number from 0 to \(maxDeadLetterLimit)"))
        }
        return .success(value)
    }

    private static func reply(_ error: DeadLetterAccessError) -> Reply {
        switch error {
        case .noQueue:
            Reply(
                status: 404, contentType: text,
                body: "no dead-letter table: the uplink is not enabled, so the daemon has no forward queue\n")
        case .storeFailed(let message):
            Reply(status: 500, contentType: text, body: "the store failed on the dead-letter table: \(message)\n")
        }
    }
}
