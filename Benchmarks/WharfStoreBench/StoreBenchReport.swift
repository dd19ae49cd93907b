import Store

/// The table, ratios and JSON of a store benchmark.
struct StoreBenchReport {
    var runs: [StoreBenchRun]
    var modes: [SynchronousMode]
    var windows: [Int]
    var producers: Int
    var messages: Int
    var gatedMessages: Int
    var payload: Int
    var largeBatch: Int
    var rounds: Int
    var dir: String
    var elapsed: Double

    /// The median figures of one case.
    struct Summary {
        var benchCase: StoreBenchCase
        var synchronous: SynchronousMode
        var rows: Int
        var batch: Int?
        var rate: Double
        var rowsPerCommit: Double
        var cpuMicrosecondsPerRow: Double
        var sqliteThreadBusy: Double?
        var sqliteThreadMicrosecondsPerRow: Double?
        var rates: [Double]
        var failures: Int
        var firstError: String?
    }

    /// A queue case divided by a bare-loop case of the same rounds.
    struct Ratio {
        var synchronous: SynchronousMode
        var identifier: String
        var label: String
        var value: Double
        var target: Double?
    }

    /// The cases in table order.
    private var cases: [StoreBenchCase] {
        [.bareLarge, .queueUnbounded, .bareMatchingUnbounded]
            + windows.flatMap { [StoreBenchCase.queuePublishers(window: $0), .bareMatchingPublishers(window: $0)] }
    }

    var summaries: [Summary] {
        modes.flatMap { mode in
            cases.compactMap { benchCase -> Summary? in
                let matching = runs.filter { $0.benchCase == benchCase && $0.synchronous == mode }
                guard let first = matching.first else { return nil }
                let measured = matching.map(\.measurement)
                return Summary(
                    benchCase: benchCase,
                    synchronous: mode,
                    rows: first.measurement.rows,
                    batch: median(matching.compactMap { $0.batch.map(Double.init) }).map { Int($0.rounded()) },
                    rate: median(measured.map(\.rate)) ?? 0,
                    rowsPerCommit: median(measured.map(\.rowsPerCommit)) ?? 0,
                    cpuMicrosecondsPerRow: median(measured.map(\.cpuMicrosecondsPerRow)) ?? 0,
                    sqliteThreadBusy: median(measured.compactMap(\.sqliteThreadBusy)),
                    sqliteThreadMicrosecondsPerRow: median(measured.compactMap(\.sqliteThreadMicrosecondsPerRow)),
                    rates: measured.map(\.rate),
                    failures: measured.reduce(0) { $0 + $1.failures },
                    firstError: measured.lazy.compactMap(\.firstError).first
                )
            }
        }
    }

    var ratios: [Ratio] {
        modes.flatMap { mode -> [Ratio] in
            var ratios = [
                pooledRatio(mode),
                ratio(
                    mode, .queueUnbounded, over: .bareMatchingUnbounded, "all at once / bare loop at the same batch",
                    nil),
                ratio(mode, .queueUnbounded, over: .bareLarge, "all at once / bare loop at B=\(largeBatch)", nil),
            ]
            for window in windows {
                ratios.append(
                    ratio(
                        mode,
                        .queuePublishers(window: window),
                        over: .bareMatchingPublishers(window: window),
                        "publishers, window \(window) / bare loop at the same batch",
                        nil
                    )
                )
            }
            return ratios.compactMap { $0 }
        }
    }

    /// The median rate of the all-at-once queue runs over the median of every bare run beside them.
    ///
    /// Both bare cases commit about as many rows per transaction (the queue's batch is close to
    /// its limit, the large batch), so together they are one sample twice as large; the target is
    /// judged on this ratio.
    private func pooledRatio(_ mode: SynchronousMode) -> Ratio? {
        let rates = { (benchCase: StoreBenchCase) in
            runs.filter { $0.benchCase == benchCase && $0.synchronous == mode }.map(\.measurement.rate)
        }
        guard let queue = median(rates(.queueUnbounded)),
            let bare = median(rates(.bareLarge) + rates(.bareMatchingUnbounded)), bare > 0
        else { return nil }
        return Ratio(
            synchronous: mode,
            identifier: "queue-unbounded/bare-pooled",
            label: "all at once / both bare loops beside it (medians of every run)",
            value: queue / bare,
            target: 0.8
        )
    }

    /// The median over rounds of the queue case's rate divided by the bare case's in the same round.
    private func ratio(
        _ mode: SynchronousMode,
        _ queueCase: StoreBenchCase,
        over bareCase: StoreBenchCase,
        _ label: String,
        _ target: Double?
    ) -> Ratio? {
        let paired = (1...rounds).compactMap { round -> Double? in
            let queue = runs.first { $0.benchCase == queueCase && $0.synchronous == mode && $0.round == round }
            let bare = runs.first { $0.benchCase == bareCase && $0.synchronous == mode && $0.round == round }
            guard let queue, let bare, bare.measurement.rate > 0 else { return nil }
            return queue.measurement.rate / bare.measurement.rate
        }
        guard let value = median(paired) else { return nil }
        return Ratio(
            synchronous: mode,
            identifier: "\(queueCase.identifier)/\(bareCase.identifier)",
            label: label,
            value: value,
            target: target
        )
    }

    /// One line per run, while the benchmark goes on.
    static func progressLine(_ run: StoreBenchRun, producers: Int) -> String {
        let m = run.measurement
        var line =
            "store-bench: \(run.synchronous.rawValue) round \(run.round): "
            + "\(run.benchCase.label(producers: producers, batch: run.batch)): "
            + "\(grouped(m.rate)) rows/s, \(fixed(m.rowsPerCommit, 1)) rows/commit, \(fixed(m.seconds, 3)) s"
        if m.failures > 0 { line += ", \(m.failures) failed (\(m.firstError ?? "?"))" }
        return line
    }

    /// Markdown tables for a person (and for docs/benchmarks.md).
    var text: String {
        var lines = [
            "wharf-store-bench: \(messages) rows per all-at-once case, \(gatedMessages) per window-1 publisher case, "
                + "\(payload)-byte payload, \(producers) producers, large batch \(largeBatch), medians of \(rounds) "
                + "rounds, fresh database per run under \(dir); \(fixed(elapsed, 1)) s in all.",
            "",
            "| synchronous | case | rows | rows/s | rows/commit | process CPU µs/row | SQLite thread CPU µs/row "
                + "| SQLite thread busy |",
            "|---|---|--:|--:|--:|--:|--:|--:|",
        ]
        for s in summaries {
            let failed = s.failures > 0 ? " (\(s.failures) failed: \(s.firstError ?? "?"))" : ""
            lines.append(
                "| \(s.synchronous.rawValue.uppercased()) | \(s.benchCase.label(producers: producers, batch: s.batch))"
                    + "\(failed) | \(s.rows) | \(grouped(s.rate)) | \(fixed(s.rowsPerCommit, 1)) "
                    + "| \(fixed(s.cpuMicrosecondsPerRow, 2)) | \(s.sqliteThreadMicrosecondsPerRow.map { fixed($0, 2) } ?? "–") "
                    + "| \(s.sqliteThreadBusy.map { fixed($0 * 100, 0) + " %" } ?? "–") |"
            )
        }
        lines += [
            "", "| synchronous | ForwardQueue.append rate / bare loop rate | ratio | target |", "|---|---|--:|--:|",
        ]
        for r in ratios {
            let target = r.target.map { "≥ \(fixed($0 * 100, 0)) % " + (r.value >= $0 ? "(met)" : "(missed)") } ?? "–"
            lines.append(
                "| \(r.synchronous.rawValue.uppercased()) | \(r.label) | \(fixed(r.value * 100, 0)) % | \(target) |")
        }
        return lines.joined(separator: "\n")
    }

    /// One JSON object with every median, every run's rate and the ratios.
    var json: String {
        let summaryObjects = summaries.map { s in
            object([
                ("synchronous", quoted(s.synchronous.rawValue)),
                ("case", quoted(s.benchCase.identifier)),
                ("label", quoted(s.benchCase.label(producers: producers, batch: s.batch))),
                ("rows", "\(s.rows)"),
                ("batch", s.batch.map { "\($0)" } ?? "null"),
                ("rows_per_s", fixed(s.rate, 1)),
                ("rows_per_commit", fixed(s.rowsPerCommit, 2)),
                ("cpu_us_per_row", fixed(s.cpuMicrosecondsPerRow, 3)),
                ("sqlite_thread_busy", s.sqliteThreadBusy.map { fixed($0, 3) } ?? "null"),
                ("sqlite_thread_cpu_us_per_row", s.sqliteThreadMicrosecondsPerRow.map { fixed($0, 3) } ?? "null"),
                ("rates", "[" + s.rates.map { fixed($0, 1) }.joined(separator: ", ") + "]"),
                ("failures", "\(s.failures)"),
            ])
        }
        let ratioObjects = ratios.map { r in
            object([
                ("synchronous", quoted(r.synchronous.rawValue)),
                ("ratio", quoted(r.identifier)),
                ("label", quoted(r.label)),
                ("value", fixed(r.value, 4)),
                ("target", r.target.map { fixed($0, 2) } ?? "null"),
            ])
        }
        return object([
            ("messages", "\(messages)"),
            ("gated_messages", "\(gatedMessages)"),
            ("payload", "\(payload)"),
            ("producers", "\(producers)"),
            ("windows", "[" + windows.map(String.init).joined(separator: ", ") + "]"),
            ("large_batch", "\(largeBatch)"),
            ("rounds", "\(rounds)"),
            ("dir", quoted(dir)),
            ("elapsed_s", fixed(elapsed, 2)),
            ("cases", "[" + summaryObjects.joined(separator: ", ") + "]"),
            ("ratios", "[" + ratioObjects.joined(separator: ", ") + "]"),
        ])
    }
}

/// The median, or `nil` for no values.
func median(_ values: [Double]) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

private func object(_ fields: [(String, String)]) -> String {
    "{" + fields.map { "\(quoted($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
}

private func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// `value` with exactly `digits` decimals, in plain notation.
func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "0" }
    var scale: Int64 = 1
    for _ in 0..<digits { scale *= 10 }
    let scaled = Int64((value * Double(scale)).rounded())
    let sign = scaled < 0 ? "-" : ""
    let magnitude = scaled.magnitude
    let whole = magnitude / UInt64(scale)
    guard digits > 0 else { return "\(sign)\(whole)" }
    let fraction = String(magnitude % UInt64(scale))
    return "\(sign)\(whole)." + String(repeating: "0", count: digits - fraction.count) + fraction
}

/// `value` rounded to a whole number, with thin groups of three digits (`1 234 567`).
func grouped(_ value: Double) -> String {
    let digits = fixed(value, 0)
    var out = ""
    for (index, character) in digits.reversed().enumerated() {
        if index > 0, index % 3 == 0, character != "-" { out.append(" ") }
        out.append(character)
    }
    return String(out.reversed())
}
