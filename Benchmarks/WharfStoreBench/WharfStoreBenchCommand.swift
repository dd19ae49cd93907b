import ArgumentParser
import BenchSupport
import Store

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `wharf-store-bench`: the forward queue's durable append rate against SQLite alone.
@main
struct WharfStoreBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wharf-store-bench",
        abstract: "Durable append rate of the forward queue against a bare SQLite insert loop on the same disk.",
        discussion: """
            Every run opens a fresh database in its own temporary directory under --dir. The bare loop \
            inserts rows shaped like the queue's, into the store's own table, in transactions of B rows, \
            with the store's multi-row INSERT for every full group of rows and its one-row INSERT for the \
            rest; the queue runs take ForwardQueue.append from concurrent producers, either all submitted \
            at once or from publishers that wait for each append to be durable. The bare loop runs beside \
            each queue run, in the same round, with the queue's own rows per commit, so each ratio compares \
            equal batches round by round. See docs/benchmarks.md.
            """
    )

    @Option(help: "Rows per run of the all-at-once queue case and of the bare loops beside it.")
    var messages = 200_000

    @Option(
        name: .customLong("gated-messages"),
        help:
            "Rows per run of a window-1 publisher case and its bare loop; window W runs W times as many, up to --messages."
    )
    var gatedMessages = 20_000

    @Option(help: "Payload bytes.")
    var payload = 64

    @Option(help: "Concurrent producers (publishers) appending to the queue.")
    var producers = 10

    @Option(help: "Windows of the publisher cases, comma-separated: appends each publisher awaits at once.")
    var windows = "1"

    @Option(name: .customLong("large-batch"), help: "Rows per transaction of the large-batch bare loop.")
    var largeBatch = 4096

    @Option(help: "synchronous settings to measure, comma-separated: full, normal.")
    var synchronous = "full,normal"

    @Option(help: "Rounds; the tables show every round, the median and the range.")
    var rounds = 5

    @Option(help: "Directory in which each run makes a fresh temporary directory (same disk as the data).")
    var dir = "/tmp"

    @Flag(help: "Print one JSON object on standard output (the table goes to standard error).")
    var json = false

    var windowList: [Int] { windows.split(separator: ",").compactMap { Int(String($0.filter { $0 != " " })) } }

    var modes: [SynchronousMode] {
        synchronous.split(separator: ",").compactMap { SynchronousMode(rawValue: String($0.filter { $0 != " " })) }
    }

    func validate() throws {
        guard messages >= 1, gatedMessages >= 1 else { throw ValidationError("message counts must be at least 1") }
        guard (0...16 << 20).contains(payload) else { throw ValidationError("--payload must be 0...16777216") }
        guard (1...10_000).contains(producers) else { throw ValidationError("--producers must be 1...10000") }
        guard !windowList.isEmpty, windowList.allSatisfy({ (1...65535).contains($0) }),
            windowList.count == windows.split(separator: ",").count
        else { throw ValidationError("--windows must list numbers 1...65535") }
        guard largeBatch >= 1 else { throw ValidationError("--large-batch must be at least 1") }
        guard !modes.isEmpty, modes.count == synchronous.split(separator: ",").count else {
            throw ValidationError("--synchronous must list full and/or normal")
        }
        guard (1...100).contains(rounds) else { throw ValidationError("--rounds must be 1...100") }
    }

    func run() async throws {
        let sample = SampleRecord(payloadSize: payload)
        let schema = try await BareInsertLoop.queueSchema(in: dir)
        var runs: [StoreBenchRun] = []
        let started = ProcessClock.now()
        // Rounds outside, settings inside: a change in the machine's load during the run reaches
        // every case and both settings, not the last setting alone.
        var batches: [SynchronousMode: [StoreBenchCase: Int]] = [:]
        for round in 1...rounds {
            for mode in modes {
                runs += try await runRound(
                    mode: mode, round: round, sample: sample, schema: schema, batches: &batches[mode, default: [:]])
            }
        }
        let report = StoreBenchReport(
            runs: runs,
            modes: modes,
            windows: windowList,
            producers: producers,
            messages: messages,
            gatedMessages: gatedMessages,
            payload: payload,
            largeBatch: largeBatch,
            rounds: rounds,
            dir: dir,
            elapsed: ProcessClock.now().wall - started.wall
        )
        if json {
            printError(report.text)
            print(report.json)
        } else {
            print(report.text)
        }
    }

    /// One round for `mode`: the unbounded queue, its matching loop and the large-batch loop, then
    /// each publisher window and its matching loop.
    ///
    /// Even rounds run each group in the opposite order, the matching loop taking the batch the
    /// queue committed in the round before (`batches`), so that no case always runs first, or
    /// always right after another, on a disk whose speed drifts.
    private func runRound(
        mode: SynchronousMode,
        round: Int,
        sample: SampleRecord,
        schema: [String],
        batches: inout [StoreBenchCase: Int]
    ) async throws -> [StoreBenchRun] {
        var runs: [StoreBenchRun] = []
        func record(_ benchCase: StoreBenchCase, batch: Int?, _ measurement: Measurement) {
            let run = StoreBenchRun(
                benchCase: benchCase, synchronous: mode, round: round, batch: batch, measurement: measurement)
            runs.append(run)
            printError(StoreBenchReport.progressLine(run, producers: producers))
        }
        func bare(_ benchCase: StoreBenchCase, rows: Int, batch: Int) throws {
            let scratch = try ScratchDirectory(in: dir)
            defer { scratch.remove() }
            let loop = BareInsertLoop(path: scratch.databasePath, synchronous: mode, schema: schema)
            record(benchCase, batch: batch, try loop.run(rows: rows, batch: batch, sample: sample))
        }
        func queue(_ benchCase: StoreBenchCase) async throws -> Measurement {
            let scratch = try ScratchDirectory(in: dir)
            defer { scratch.remove() }
            let run = QueueAppendRun(path: scratch.databasePath, synchronous: mode, sample: sample)
            let measurement: Measurement
            switch benchCase {
            case .queuePublishers(let window):
                measurement = try await run.publishers(
                    rows: gatedRows(window: window), producers: producers, window: window)
            default:
                measurement = try await run.unbounded(rows: messages, producers: producers)
            }
            record(benchCase, batch: nil, measurement)
            return measurement
        }

        let reversed = round % 2 == 0
        if reversed, let batch = batches[.queueUnbounded] {
            try bare(.bareLarge, rows: messages, batch: largeBatch)
            try bare(.bareMatchingUnbounded, rows: messages, batch: batch)
            batches[.queueUnbounded] = Self.batch(matching: try await queue(.queueUnbounded))
        } else {
            let batch = Self.batch(matching: try await queue(.queueUnbounded))
            batches[.queueUnbounded] = batch
            try bare(.bareMatchingUnbounded, rows: messages, batch: batch)
            try bare(.bareLarge, rows: messages, batch: largeBatch)
        }
        for window in windowList {
            let queueCase = StoreBenchCase.queuePublishers(window: window)
            let bareCase = StoreBenchCase.bareMatchingPublishers(window: window)
            let rows = gatedRows(window: window)
            if reversed, let batch = batches[queueCase] {
                try bare(bareCase, rows: rows, batch: batch)
                batches[queueCase] = Self.batch(matching: try await queue(queueCase))
            } else {
                let batch = Self.batch(matching: try await queue(queueCase))
                batches[queueCase] = batch
                try bare(bareCase, rows: rows, batch: batch)
            }
        }
        return runs
    }

    /// Rows of a publisher case: enough for its rate, which grows with the window, to be measurable.
    private func gatedRows(window: Int) -> Int {
        min(max(messages, gatedMessages), gatedMessages * window)
    }

    /// The queue's average rows per commit, rounded, as the bare loop's batch.
    private static func batch(matching measurement: Measurement) -> Int {
        max(1, Int(measurement.rowsPerCommit.rounded()))
    }
}

/// Writes `text` and a newline to standard error.
func printError(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { bytes in
        _ = write(2, bytes.baseAddress, bytes.count)
    }
}
