import Store

/// The report as one JSON object, for scripts.
extension StoreBenchReport {
    /// Every case's medians and per-round rates, and every ratio with its per-round values, median and range.
    var json: String {
        let summaryObjects = summaries.map { s in
            object([
                ("synchronous", quoted(s.synchronous.rawValue)),
                ("case", quoted(s.benchCase.identifier)),
                ("label", quoted(s.benchCase.label(producers: producers, batch: s.batch))),
                ("rows", "\(s.rows)"),
                ("batch", s.batch.map { "\($0)" } ?? "null"),
                ("rows_per_s", fixed(s.rate, 1)),
                ("rows_per_s_min", fixed(s.rates.min() ?? 0, 1)),
                ("rows_per_s_max", fixed(s.rates.max() ?? 0, 1)),
                ("rows_per_commit", fixed(s.rowsPerCommit, 2)),
                ("rows_per_insert", s.rowsPerInsert.map { fixed($0, 2) } ?? "null"),
                ("cpu_us_per_row", fixed(s.cpuMicrosecondsPerRow, 3)),
                ("sqlite_thread_busy", s.sqliteThreadBusy.map { fixed($0, 3) } ?? "null"),
                ("sqlite_thread_cpu_us_per_row", s.sqliteThreadMicrosecondsPerRow.map { fixed($0, 3) } ?? "null"),
                ("rates", array(s.roundRates.map { $0.map { fixed($0, 1) } ?? "null" })),
                ("failures", "\(s.failures)"),
            ])
        }
        let ratioObjects = ratios.map { r in
            object([
                ("synchronous", quoted(r.synchronous.rawValue)),
                ("ratio", quoted(r.identifier)),
                ("label", quoted(r.label)),
                ("rounds", array(r.roundValues.map { $0.map { fixed($0, 4) } ?? "null" })),
                ("value", fixed(r.value, 4)),
                ("min", fixed(r.values.min() ?? 0, 4)),
                ("max", fixed(r.values.max() ?? 0, 4)),
                ("target", r.target.map { fixed($0, 2) } ?? "null"),
                ("rounds_meeting_target", r.target == nil ? "null" : "\(r.roundsMeetingTarget)"),
                ("failures", "\(r.failures)"),
            ])
        }
        return object([
            ("messages", "\(messages)"),
            ("gated_messages", "\(gatedMessages)"),
            ("payload", "\(payload)"),
            ("producers", "\(producers)"),
            ("windows", array(windows.map(String.init))),
            ("large_batch", "\(largeBatch)"),
            ("insert_group_rows", "\(StoreSQLite.queueInsertGroupRows)"),
            ("rounds", "\(rounds)"),
            ("dir", quoted(dir)),
            ("elapsed_s", fixed(elapsed, 2)),
            ("cases", array(summaryObjects)),
            ("ratios", array(ratioObjects)),
        ])
    }

    private func array(_ values: [String]) -> String {
        "[" + values.joined(separator: ", ") + "]"
    }
}
