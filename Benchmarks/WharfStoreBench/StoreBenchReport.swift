import Store

/// The figures of a store benchmark: every run, the medians and ranges of each case, and the
/// ratios of the queue to the bare loop round by round.
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

    /// The share of the bare loop's rate the all-at-once queue must reach (the product's target).
    static let target = 0.8

    /// The median figures of one case, and its rate in every round.
    struct Summary {
        var benchCase: StoreBenchCase
        var synchronous: SynchronousMode
        var rows: Int
        var batch: Int?
        var rate: Double
        var rowsPerCommit: Double
        var rowsPerInsert: Double?
        var cpuMicrosecondsPerRow: Double
        var sqliteThreadBusy: Double?
        var sqliteThreadMicrosecondsPerRow: Double?
        /// The rate of each round, `nil` for a round without this case.
        var roundRates: [Double?]
        var failures: Int
        var firstError: String?

        /// The rates of the rounds that ran.
        var rates: [Double] { roundRates.compactMap { $0 } }
    }

    /// A queue case's rate divided by a bare-loop case's rate in the same round, for every round.
    struct Ratio {
        var synchronous: SynchronousMode
        var identifier: String
        var label: String
        /// The ratio of each round, `nil` for a round without both cases.
        var roundValues: [Double?]
        var target: Double?
        /// Appends of the queue case that failed, over every round: a run with failures is no measurement.
        var failures: Int

        /// The ratios of the rounds that had both cases.
        var values: [Double] { roundValues.compactMap { $0 } }
        /// Their median.
        var value: Double { median(values) ?? 0 }
        /// Rounds at or above the target.
        var roundsMeetingTarget: Int { target.map { target in values.filter { $0 >= target }.count } ?? 0 }
    }

    /// The cases in table order.
    var cases: [StoreBenchCase] {
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
                    rowsPerInsert: median(measured.compactMap(\.rowsPerInsert)),
                    cpuMicrosecondsPerRow: median(measured.map(\.cpuMicrosecondsPerRow)) ?? 0,
                    sqliteThreadBusy: median(measured.compactMap(\.sqliteThreadBusy)),
                    sqliteThreadMicrosecondsPerRow: median(measured.compactMap(\.sqliteThreadMicrosecondsPerRow)),
                    roundRates: (1...rounds).map { round in matching.first { $0.round == round }?.measurement.rate },
                    failures: measured.reduce(0) { $0 + $1.failures },
                    firstError: measured.lazy.compactMap(\.firstError).first
                )
            }
        }
    }

    /// The target ratio first (all at once against the bare loop at the queue's own batch, run
    /// beside it in the same round), then the others, which have no target.
    var ratios: [Ratio] {
        modes.flatMap { mode -> [Ratio] in
            var ratios = [
                ratio(
                    mode, .queueUnbounded, over: .bareMatchingUnbounded, "all at once / bare loop at the same batch",
                    Self.target),
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

    /// The queue case's rate divided by the bare case's in the same round, for every round.
    private func ratio(
        _ mode: SynchronousMode,
        _ queueCase: StoreBenchCase,
        over bareCase: StoreBenchCase,
        _ label: String,
        _ target: Double?
    ) -> Ratio? {
        let paired = (1...rounds).map { round -> Double? in
            let queue = runs.first { $0.benchCase == queueCase && $0.synchronous == mode && $0.round == round }
            let bare = runs.first { $0.benchCase == bareCase && $0.synchronous == mode && $0.round == round }
            guard let queue, let bare, bare.measurement.rate > 0 else { return nil }
            return queue.measurement.rate / bare.measurement.rate
        }
        guard paired.contains(where: { $0 != nil }) else { return nil }
        return Ratio(
            synchronous: mode,
            identifier: "\(queueCase.identifier)/\(bareCase.identifier)",
            label: label,
            roundValues: paired,
            target: target,
            failures: runs.filter { $0.benchCase == queueCase && $0.synchronous == mode }
                .reduce(0) { $0 + $1.measurement.failures }
        )
    }
}
