import Histogram
import NIOCore
import NIOPosix
import Synchronization

/// One benchmark run: connects every client, runs the closed loop to its end, gathers the results.
struct BenchRun {
    /// What to run.
    var configuration: BenchConfiguration

    /// Runs the benchmark and reports what was measured.
    func run() async throws -> BenchReport {
        let loopback = configuration.loopback ? try await LoopbackBroker.start() : nil
        let host = loopback == nil ? configuration.host : "127.0.0.1"
        let port = loopback?.port ?? configuration.port
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        do {
            let report = try await measure(group: group, host: host, port: port, loopback: loopback)
            try await group.shutdownGracefully()
            await loopback?.stop()
            return report
        } catch {
            try? await group.shutdownGracefully()
            await loopback?.stop()
            throw error
        }
    }

    private func measure(
        group: MultiThreadedEventLoopGroup,
        host: String,
        port: Int,
        loopback: LoopbackBroker?
    ) async throws -> BenchReport {
        let configuration = configuration
        let tls = loopback == nil ? configuration.tls : nil
        let runID = String(UInt16.random(in: .min ... .max), radix: 16)
        let topology = Topology(configuration: configuration, runID: runID)
        let loops = Array(group.makeIterator())
        let tracker = RunTracker(
            publisherCount: topology.publisherTopics.count,
            promise: loops[0].makePromise(of: RunOutcome.self)
        )
        let progress = topology.recipients.map { PublisherProgress(recipients: $0.count) }
        let slots = topology.slots

        var subscribers: [ClientHandle<SubscriberHandler>] = []
        var publishers: [ClientHandle<PublisherHandler>] = []
        defer {
            // Whatever happened, leave no connection open.
            for client in subscribers { client.loop.execute { client.handler.value.disconnect() } }
            for client in publishers { client.loop.execute { client.handler.value.disconnect() } }
        }
        for (index, filter) in topology.subscriberFilters.enumerated() {
            let loop = loops[index % loops.count]
            let subscriberSlots = slots[index]
            subscribers.append(
                try await ClientHandle.connect(host: host, port: port, tls: tls, on: loop) {
                    SubscriberHandler(
                        index: index,
                        clientID: "wb\(runID)s\(index)",
                        filter: filter,
                        configuration: configuration,
                        slots: subscriberSlots,
                        progress: progress,
                        tracker: tracker,
                        ready: loop.makePromise()
                    )
                }
            )
        }
        for (index, topic) in topology.publisherTopics.enumerated() {
            let loop = loops[(subscribers.count + index) % loops.count]
            let template = try PublishTemplate(
                topic: topic,
                publisher: index,
                payloadSize: configuration.payload,
                qos: configuration.qos,
                version: configuration.version
            )
            let client = try await ClientHandle.connect(host: host, port: port, tls: tls, on: loop) {
                PublisherHandler(
                    index: index,
                    clientID: "wb\(runID)p\(index)",
                    configuration: configuration,
                    template: template,
                    progress: progress[index],
                    tracker: tracker,
                    ready: loop.makePromise()
                )
            }
            let handler = client.handler
            progress[index].attach {
                if loop.inEventLoop {
                    handler.value.pump()
                } else {
                    loop.execute { handler.value.pump() }
                }
            }
            publishers.append(client)
        }

        let generatorBefore = try await threadCPU(loops)
        let loopbackBefore = try await loopback?.cpuSeconds()
        let start = monotonicNanoseconds()
        let watchdog = Watchdog(tracker: tracker, configuration: configuration, start: start)
        let task = loops[0].scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            watchdog.check()
        }
        for client in publishers { client.loop.execute { client.handler.value.start() } }

        let outcome = try await tracker.ended.get()
        let end = tracker.endedAt ?? monotonicNanoseconds()
        let generatorAfter = try await threadCPU(loops)
        let loopbackAfter = try await loopback?.cpuSeconds()
        task.cancel()

        var latency = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        var received = 0
        var duplicates = 0
        var gaps = 0
        var foreign = 0
        for client in subscribers {
            let result = try await client.submit { $0.result }
            latency.add(result.latency)
            received += result.unique.reduce(0, +)
            duplicates += result.duplicates
            gaps += result.gaps
            foreign += result.foreign
        }
        var sent = 0
        var expected = 0
        var unfinished: [String] = []
        for (index, client) in publishers.enumerated() {
            let (count, unacknowledged) = try await client.submit { ($0.sent, $0.unacknowledged) }
            sent += count
            expected += count * topology.recipients[index].count
            let delivered = progress[index].delivered
            if delivered < configuration.messages || unacknowledged > 0 {
                unfinished.append(
                    "p\(index): sent \(count), delivered to all \(delivered), unacknowledged \(unacknowledged)")
            }
        }
        var loopbackCPU: Double?
        if let loopbackBefore, let loopbackAfter { loopbackCPU = loopbackAfter - loopbackBefore }
        return BenchReport(
            configuration: configuration,
            target: loopback == nil ? "\(host):\(port)" : "loopback",
            outcome: outcome,
            publishers: publishers.count,
            subscribers: subscribers.count,
            sent: sent,
            expected: expected,
            received: received,
            duplicates: duplicates,
            gaps: gaps,
            foreign: foreign,
            elapsed: Double(end - start) / 1e9,
            latency: latency,
            generatorCPU: generatorAfter - generatorBefore,
            loopbackCPU: loopbackCPU,
            unfinished: outcome == .complete ? [] : unfinished
        )
    }

    /// CPU seconds used so far by the threads of `loops`, summed.
    private func threadCPU(_ loops: [any EventLoop]) async throws -> Double {
        var total = 0.0
        for loop in loops { total += try await loop.submit { CPUTime.currentThread() }.get() }
        return total
    }
}

/// Ends a run that has stopped making progress or has run out of time.
final class Watchdog: Sendable {
    private struct State {
        var deliveries = 0
        var lastProgress: UInt64
    }

    private let tracker: RunTracker
    private let idleLimit: UInt64
    private let deadline: UInt64
    private let state: Mutex<State>

    /// Creates a watchdog for a run that started at `start` (monotonic nanoseconds).
    init(tracker: RunTracker, configuration: BenchConfiguration, start: UInt64) {
        self.tracker = tracker
        idleLimit = UInt64(configuration.idleTimeoutSeconds) * 1_000_000_000
        deadline = start + UInt64(configuration.timeoutSeconds) * 1_000_000_000
        state = Mutex(State(lastProgress: start))
    }

    /// Called every second.
    func check() {
        let now = monotonicNanoseconds()
        let deliveries = tracker.deliveries.load(ordering: .relaxed)
        let idle = state.withLock { state -> Bool in
            if deliveries != state.deliveries {
                state.deliveries = deliveries
                state.lastProgress = now
            }
            return now - state.lastProgress >= idleLimit
        }
        if idle {
            tracker.end(.stalled)
        } else if now >= deadline {
            tracker.end(.timedOut)
        }
    }
}
