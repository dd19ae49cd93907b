/// What `config push` knows of each gateway while it waits: fed the reports as they arrive, it says
/// what to print and when every gateway has reached an outcome. No I/O and no clock: the caller
/// decides when time is up.
struct PushProgress {
    /// Which result ends the wait for a gateway.
    enum Wait: String, CaseIterable, Sendable {
        /// Until confirmed (`applied`), or refused (`rejected`, `rolled-back`).
        case applied
        /// Until tried: `pending-confirmation` ends the wait too.
        case pending
    }

    /// Where one gateway stands.
    enum State: Equatable {
        /// No report for the pushed version yet.
        case waiting
        /// Tried and waiting for confirmation (not an outcome with `--wait applied`).
        case pending
        /// An outcome: `applied` (or `pending-confirmation` with `--wait pending`) is a success.
        case done(result: String, success: Bool)
    }

    private struct Entry {
        var version: UInt64
        var state: State = .waiting
        /// Whether the broker acknowledged the gateway's document.
        var published = false
        /// The last report seen, for the timeout message.
        var lastReport: RemoteConfigReportView?
        /// The last report that could not be read.
        var unreadable: String?
    }

    let wait: Wait
    /// The gateways in the order they were given.
    let order: [String]
    private var entries: [String: Entry]

    /// Progress for `gateways`, each waiting for the outcome of `version`.
    init(versions: [(gateway: String, version: UInt64)], wait: Wait) {
        self.wait = wait
        order = versions.map(\.gateway)
        entries = Dictionary(versions.map { ($0.gateway, Entry(version: $0.version)) }, uniquingKeysWith: { a, _ in a })
    }

    /// Where `gateway` stands.
    func state(of gateway: String) -> State? { entries[gateway]?.state }

    /// Whether `gateway` has an outcome.
    func hasOutcome(_ gateway: String) -> Bool {
        if case .done = entries[gateway]?.state { return true }
        return false
    }

    /// Whether every gateway has an outcome.
    var isComplete: Bool {
        entries.values.allSatisfy { if case .done = $0.state { true } else { false } }
    }

    /// The broker acknowledged `gateway`'s document.
    mutating func markPublished(gateway: String) {
        entries[gateway]?.published = true
    }

    /// Takes a report payload of `gateway`; the lines to print (none when nothing changed).
    mutating func receive(gateway: String, payload: [UInt8]) -> [String] {
        guard var entry = entries[gateway] else { return [] }
        defer { entries[gateway] = entry }
        if case .done = entry.state { return [] }
        let report: RemoteConfigReportView
        switch RemoteConfigReportView.parse(payload) {
        case .failure(let error):
            let first = entry.unreadable == nil
            entry.unreadable = error.description
            return first ? ["\(gateway): unreadable report: \(error.description)"] : []
        case .success(let parsed): report = parsed
        }
        entry.lastReport = report
        guard let attempt = report.lastAttempt, attempt.version == entry.version else { return [] }
        let heading = "\(gateway): \(attempt.result) (version \(attempt.version))"
        switch attempt.result {
        case "applied":
            entry.state = .done(result: attempt.result, success: true)
            return [heading]
        case "pending-confirmation" where wait == .pending:
            entry.state = .done(result: attempt.result, success: true)
            return [heading]
        case "pending-confirmation":
            guard entry.state != .pending else { return [] }
            entry.state = .pending
            return [heading + ", waiting for confirmation"]
        case "rejected", "rolled-back":
            entry.state = .done(result: attempt.result, success: false)
            return attempt.errors.isEmpty ? [heading] : attempt.errors.map { "\(heading): \($0.line)" }
        default:
            // A result this wharfctl does not know: shown, and waited past.
            return [heading + ": unknown result, still waiting"]
        }
    }

    /// `gateway`'s document could not be published or its reports not subscribed to: an outcome.
    mutating func fail(gateway: String, reason: String) -> [String] {
        guard var entry = entries[gateway] else { return [] }
        if case .done = entry.state { return [] }
        entry.state = .done(result: "failed", success: false)
        entries[gateway] = entry
        return ["\(gateway): \(reason)"]
    }

    /// The closing lines (one for each gateway without an outcome, naming `waited` as the time
    /// spent, then the counts) and the exit status: 0 when every gateway succeeded, 1 otherwise.
    func summary(waited: String) -> (lines: [String], exitCode: Int32) {
        var lines: [String] = []
        var counts: [String: Int] = [:]
        var failed = false
        for gateway in order {
            guard let entry = entries[gateway] else { continue }
            switch entry.state {
            case .done(let result, let success):
                counts[result, default: 0] += 1
                failed = failed || !success
            case .waiting, .pending:
                counts["no outcome", default: 0] += 1
                failed = true
                lines.append("\(gateway): no outcome within \(waited) (\(lastSeen(entry)))")
            }
        }
        let ranking = ["applied", "pending-confirmation", "rejected", "rolled-back", "failed", "no outcome"]
        let known = ranking.compactMap { key in counts[key].map { "\($0) \(key)" } }
        let others = counts.keys.filter { !ranking.contains($0) }.sorted().map { "\(counts[$0] ?? 0) \($0)" }
        let total = order.count
        lines.append("\(total) gateway\(total == 1 ? "" : "s"): " + (known + others).joined(separator: ", "))
        return (lines, failed ? 1 : 0)
    }

    /// What was last seen of a gateway without an outcome.
    private func lastSeen(_ entry: Entry) -> String {
        if !entry.published { return "its document was not acknowledged by the broker" }
        if entry.state == .pending { return "pending confirmation" }
        guard let report = entry.lastReport else {
            return entry.unreadable.map { "unreadable report: \($0)" } ?? "no report received"
        }
        var text = "last report: " + RemoteConfigStatusText.summary(report)
        if let desired = report.desiredVersion, desired >= entry.version {
            text += ", desired version \(desired) seen"
        }
        return text
    }
}
