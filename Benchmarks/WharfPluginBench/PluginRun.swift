import AdapterKit
import BenchSupport
import Logging
import NIOCore
import WharfConfig
import WharfCore
import WharfGateway
import WharfPlugins

/// What one measured case gives.
struct CaseResult: Sendable {
    /// Messages counted within the measured span.
    var messages: Int
    /// Seconds from the first counted publish to the last answer.
    var seconds: Double
    /// CPU seconds of this process over the span.
    var cpu: Double
    /// Messages the router refused (a correct run has none).
    var refused: Int

    /// Messages per second.
    var rate: Double { seconds > 0 ? Double(messages) / seconds : 0 }
    /// CPU microseconds of this process per message.
    var cpuMicrosecondsPerMessage: Double { messages > 0 ? cpu / Double(messages) * 1e6 : 0 }
}

/// Case (a): the load generator plugin through the real `PluginAdapter`, on its pipe.
enum PluginRun {
    /// Runs the adapter of `gateway`'s configuration until the plugin's `total` publishes are
    /// answered, then stops it.
    ///
    /// The span starts at the first change of the adapter's status that counts an answered
    /// publish and ends at the one that counts the last; the messages answered before the start
    /// are left out of the rate. Both ends are seen the same way, through
    /// `PluginAdapter.processStatus(where:)`, which wakes at the change without polling.
    static func run(gateway: BenchGateway, total: Int, group: any EventLoopGroup, timeout: Duration) async throws
        -> CaseResult
    {
        guard let section = gateway.configuration.adapters.first else { throw PluginBenchError("no adapter section") }
        var logger = Logger(label: "wharf.adapter.bench")
        logger[metadataKey: "adapter.name"] = "bench"
        let context = AdapterContext(
            name: section.name, bus: gateway.gateway.broker, logger: logger, clock: SystemClock(),
            eventLoopGroup: group)
        let adapter: PluginAdapter
        do {
            adapter = try PluginAdapter(config: section, context: context)
        } catch {
            throw PluginBenchError("plugin adapter: \(error)")
        }
        let running = Task { try await adapter.run() }
        defer { running.cancel() }

        let watchdog = Task {
            try await Task.sleep(for: timeout)
            running.cancel()
        }
        defer { watchdog.cancel() }

        let first = await adapter.processStatus { $0.publishes + $0.nacks > 0 || $0.state == "stopped" }
        let start = ProcessClock.now()
        let last = await adapter.processStatus { $0.publishes + $0.nacks >= total || $0.state == "stopped" }
        let end = ProcessClock.now()
        running.cancel()
        _ = try? await running.value
        let answered = last.publishes + last.nacks
        guard answered >= total else {
            throw PluginBenchError(
                "the plugin stopped after \(answered) of \(total) answers (state \(last.state), restarts \(last.restarts), garbage \(last.garbageLines))"
            )
        }
        return CaseResult(
            messages: total - (first.publishes + first.nacks),
            seconds: end.wall - start.wall,
            cpu: end.cpu - start.cpu,
            refused: last.nacks
        )
    }
}
