import Store

/// The report as Markdown tables for a person (and for docs/benchmarks.md).
extension StoreBenchReport {
    /// One line per run, while the benchmark goes on.
    static func progressLine(_ run: StoreBenchRun, producers: Int) -> String {
        let m = run.measurement
        var line =
            "store-bench: round \(run.round) \(run.synchronous.rawValue): "
            + "\(run.benchCase.label(producers: producers, batch: run.batch)): "
            + "\(grouped(m.rate)) rows/s, \(fixed(m.rowsPerCommit, 1)) rows/commit"
        if let rowsPerInsert = m.rowsPerInsert { line += ", \(fixed(rowsPerInsert, 1)) rows/INSERT" }
        line += ", \(fixed(m.seconds, 3)) s"
        if m.failures > 0 { line += ", \(m.failures) failed (\(m.firstError ?? "?"))" }
        return line
    }

    /// The parameters, the medians of every case, the rate of every round and the ratios round by round.
    var text: String {
        let roundColumns = (1...rounds).map { " \($0) |" }.joined()
        let roundRule = String(repeating: "--:|", count: rounds)
        var lines = [
            "wharf-store-bench: \(messages) rows per all-at-once case, \(gatedMessages) per window-1 publisher case, "
                + "\(payload)-byte payload, \(producers) producers, large batch \(largeBatch); \(rounds) rounds, "
                + "interleaved (each round runs every case of each synchronous setting, queue and bare loop side "
                + "by side; even rounds run the bare loops first); the bare loop inserts "
                + "\(StoreSQLite.queueInsertGroupRows) rows per statement as the store does, the rest of a "
                + "transaction one row at a time; fresh database per run under \(dir); \(fixed(elapsed, 1)) s in all.",
            "",
            "Medians over the rounds (rows/s: median and range):",
            "",
            "| synchronous | case | rows | rows/s | rows/commit | rows/INSERT | process CPU µs/row "
                + "| SQLite thread CPU µs/row | SQLite thread busy |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|",
        ]
        let summaries = summaries
        for s in summaries {
            let failed = s.failures > 0 ? " (\(s.failures) failed: \(s.firstError ?? "?"))" : ""
            lines.append(
                "| \(s.synchronous.rawValue.uppercased()) | \(s.benchCase.label(producers: producers, batch: s.batch))"
                    + "\(failed) | \(s.rows) | \(medianAndRange(s.rates, grouped)) | \(fixed(s.rowsPerCommit, 1)) "
                    + "| \(s.rowsPerInsert.map { fixed($0, 1) } ?? "–") | \(fixed(s.cpuMicrosecondsPerRow, 2)) "
                    + "| \(s.sqliteThreadMicrosecondsPerRow.map { fixed($0, 2) } ?? "–") "
                    + "| \(s.sqliteThreadBusy.map(percent) ?? "–") |"
            )
        }
        lines += [
            "", "Rows/s in each round:", "", "| synchronous | case |" + roundColumns, "|---|---|" + roundRule,
        ]
        for s in summaries {
            let cells = s.roundRates.map { " \($0.map(grouped) ?? "–") |" }.joined()
            lines.append(
                "| \(s.synchronous.rawValue.uppercased()) | \(s.benchCase.label(producers: producers, batch: s.batch)) |"
                    + cells)
        }
        lines += [
            "",
            "ForwardQueue.append rate / bare loop rate, each round's runs against each other:",
            "",
            "| synchronous | ratio |" + roundColumns + " median | range | target |",
            "|---|---|" + roundRule + "--:|--:|---|",
        ]
        for r in ratios {
            let cells = r.roundValues.map { " \($0.map(percent) ?? "–") |" }.joined()
            let range = r.values.count > 1 ? "\(percent(r.values.min() ?? 0))–\(percent(r.values.max() ?? 0))" : "–"
            lines.append(
                "| \(r.synchronous.rawValue.uppercased()) | \(r.label) |\(cells) \(percent(r.value)) | \(range) "
                    + "| \(verdict(r)) |")
        }
        return lines.joined(separator: "\n")
    }

    /// `≥ 80 %: met (4 of 5 rounds at or above)` for the target ratio, `–` for the others.
    private func verdict(_ ratio: Ratio) -> String {
        guard let target = ratio.target else { return "–" }
        guard ratio.failures == 0 else { return "not judged: \(ratio.failures) appends failed" }
        let outcome = ratio.value >= target ? "met" : "missed"
        return "≥ \(percent(target)): \(outcome) (\(ratio.roundsMeetingTarget) of \(ratio.values.count) rounds at "
            + "or above)"
    }
}
