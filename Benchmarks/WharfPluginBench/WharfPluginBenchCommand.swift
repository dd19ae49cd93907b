import AdminAPI
import ArgumentParser
import Logging
import NIOCore
import NIOPosix
import WharfCore
import WharfGateway

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `wharf-plugin-bench`: messages per second into the broker from one plugin through its pipe,
/// against the same messages from an adapter inside the process, in the same run.
@main
struct WharfPluginBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wharf-plugin-bench",
        abstract: "Publishes from one plugin through the pipe against the same publishes from inside the process.",
        discussion: """
            Each case builds the broker as wharfd does, in a fresh data directory under --dir. The \
            plugin case runs the load generator (--plugin, plugins/examples/counter.c in --bench mode) \
            through the real plugin adapter; the in-process case publishes the same messages through \
            MessageBus.publish(_:completion:) from one event loop, with as many QoS 1 publishes \
            unanswered as the plugin's credit. QoS 1 cases have an uplink forward rule over the topic, \
            so that every publish is a durable append before its answer. See docs/benchmarks.md.
            """
    )

    @Option(help: "The load generator plugin (counter built from plugins/examples/counter.c).")
    var plugin: String

    @Option(help: "Messages per QoS 0 case.")
    var messages = 1_000_000

    @Option(name: .customLong("durable-messages"), help: "Messages per QoS 1 (durable) case.")
    var durableMessages = 200_000

    @Option(help: "QoS levels to measure, comma-separated: 0, 1.")
    var qos = "0,1"

    @Option(help: "Payload bytes (0...512).")
    var payload = 16

    @Option(help: "The plugin's credit, and the in-process publisher's window of unanswered QoS 1 publishes.")
    var credit = 64

    @Option(help: "storage.queue.synchronous of the durable cases: full or normal.")
    var synchronous = "full"

    @Option(help: "Rounds; the order of the two cases alternates between rounds.")
    var rounds = 1

    @Option(help: "Which case runs first in the first round: plugin or in-process.")
    var first = "plugin"

    @Option(help: "Run only one of the cases (plugin or in-process), for profiling.")
    var only: String?

    @Option(help: "Directory in which each case makes a fresh data directory.")
    var dir = "/tmp"

    @Option(help: "Seconds a case may take.")
    var timeout = 120

    @Flag(help: "Print one JSON object on standard output (the lines go to standard error).")
    var json = false

    static let topic = "bench/plugin"

    var levels: [Int] { qos.split(separator: ",").compactMap { Int(String($0.filter { $0 != " " })) } }

    func validate() throws {
        guard messages >= 1, durableMessages >= 1 else { throw ValidationError("message counts must be at least 1") }
        guard !levels.isEmpty, levels.allSatisfy({ $0 == 0 || $0 == 1 }) else {
            throw ValidationError("--qos must list 0 and/or 1")
        }
        guard (0...512).contains(payload) else { throw ValidationError("--payload must be 0...512") }
        guard (1...65535).contains(credit) else { throw ValidationError("--credit must be 1...65535") }
        guard ["full", "normal"].contains(synchronous) else { throw ValidationError("--synchronous: full or normal") }
        guard (1...100).contains(rounds) else { throw ValidationError("--rounds must be 1...100") }
        guard ["plugin", "in-process"].contains(first) else { throw ValidationError("--first: plugin or in-process") }
        guard only.map({ ["plugin", "in-process"].contains($0) }) ?? true else {
            throw ValidationError("--only: plugin or in-process")
        }
        guard plugin.hasPrefix("/") else { throw ValidationError("--plugin must be an absolute path") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        // The metrics wharfd has: the plugin host's counters cost what they cost there.
        _ = GatewayMetrics.bootstrapPrometheus()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        var records: [RunRecord] = []
        do {
            for round in 1...rounds {
                let pluginFirst = (first == "plugin") == (round % 2 == 1)
                for level in levels {
                    let order = pluginFirst ? [Mode.plugin, .inProcess] : [.inProcess, .plugin]
                    for mode in order where only == nil || only == mode.rawValue {
                        let record = try await measure(mode: mode, qos: level, round: round, group: group)
                        printError(record.line)
                        records.append(record)
                    }
                }
            }
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try? await group.shutdownGracefully()
        let report = PluginBenchReport(
            records: records, messages: messages, durableMessages: durableMessages, payload: payload, credit: credit,
            synchronous: synchronous, cores: System.coreCount)
        if json {
            printError(report.text)
            print(report.json)
        } else {
            print(report.text)
        }
    }

    /// One case in a fresh data directory.
    private func measure(mode: Mode, qos level: Int, round: Int, group: any EventLoopGroup) async throws -> RunRecord {
        let total = level == 0 ? messages : durableMessages
        let directory = try ScratchDirectory(in: dir)
        let yaml = BenchGateway.yaml(
            dataDirectory: directory.path, durable: level == 1, synchronous: synchronous, plugin: plugin,
            pluginArguments: [
                "--bench", "\(total)", "--qos", "\(level)", "--payload-bytes", "\(payload)", "--topic", Self.topic,
            ],
            credit: credit)
        let gateway: BenchGateway
        do {
            gateway = try await BenchGateway.make(yaml: yaml, directory: directory, group: group)
        } catch {
            directory.remove()
            throw error
        }
        let result: CaseResult
        do {
            switch mode {
            case .plugin:
                result = try await PluginRun.run(
                    gateway: gateway, total: total, group: group, timeout: .seconds(timeout))
            case .inProcess:
                result = try await InProcessRun.run(
                    bus: gateway.gateway.broker, loop: group.next(), total: total, window: credit,
                    qos: level == 0 ? .atMostOnce : .atLeastOnce, topic: Self.topic, payload: payload)
            }
        } catch {
            await gateway.close()
            throw error
        }
        await gateway.close()
        if result.refused > 0 {
            throw PluginBenchError("\(mode.rawValue) QoS \(level): \(result.refused) publishes refused")
        }
        return RunRecord(mode: mode, qos: level, round: round, result: result)
    }
}

/// Which publisher a case measures.
enum Mode: String, Sendable {
    case plugin
    case inProcess = "in-process"
}

/// One measured case.
struct RunRecord: Sendable {
    var mode: Mode
    var qos: Int
    var round: Int
    var result: CaseResult

    /// A line for the log of the run.
    var line: String {
        "round \(round) QoS \(qos) \(mode.rawValue): \(Format.number(result.rate)) msg/s, "
            + "\(result.messages) messages in \(Format.number(result.seconds, digits: 3)) s, "
            + "host CPU \(Format.number(result.cpuMicrosecondsPerMessage, digits: 2)) µs/msg"
    }
}

/// Writes a line to standard error.
func printError(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { bytes in
        _ = write(2, bytes.baseAddress, bytes.count)
    }
}
