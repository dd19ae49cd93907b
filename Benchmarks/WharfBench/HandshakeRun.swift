import Histogram
import MQTTCodec
import NIOCore
import NIOPosix

/// Connection set-up rate: each connection opens (TCP, then TLS when configured), sends CONNECT,
/// waits for the CONNACK, sends DISCONNECT and closes; `concurrency` connections are under way at
/// any time until `connections` have been made.
struct HandshakeRun {
    /// The broker's address.
    var host: String
    /// The broker's port.
    var port: Int
    /// TLS to the broker, or plain TCP.
    var tls: BenchTLS?
    /// The MQTT version of the CONNECT.
    var version: MQTTProtocolVersion
    /// Connections to make in all.
    var connections: Int
    /// Connections under way at once.
    var concurrency: Int
    /// Event loop threads of the generator.
    var threads: Int
    /// Give up after this many seconds in all.
    var timeoutSeconds: Int

    /// Makes the connections and reports what was measured.
    func run() async throws -> HandshakeReport {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let report = await measure(group: group)
        try await group.shutdownGracefully()
        return report
    }

    private func measure(group: MultiThreadedEventLoopGroup) async -> HandshakeReport {
        let loops = Array(group.makeIterator())
        let runID = String(UInt16.random(in: .min ... .max), radix: 16)
        let deadline = monotonicNanoseconds() + UInt64(timeoutSeconds) * 1_000_000_000
        let cpuBefore = CPUTime.process()
        let start = monotonicNanoseconds()
        let outcomes = await withTaskGroup(of: WorkerOutcome.self) { tasks in
            for worker in 0..<concurrency {
                let loop = loops[worker % loops.count]
                tasks.addTask {
                    var outcome = WorkerOutcome()
                    // Worker w makes connections w, w + concurrency, w + 2 × concurrency, ...
                    for index in stride(from: worker, to: connections, by: concurrency) {
                        guard monotonicNanoseconds() < deadline else { break }
                        let began = monotonicNanoseconds()
                        do {
                            try await connectOnce(clientID: "wbh\(runID)-\(index)", on: loop)
                            outcome.latency.record((monotonicNanoseconds() - began) / 1000)
                            outcome.completed += 1
                        } catch {
                            outcome.failed += 1
                            if outcome.firstError == nil { outcome.firstError = "\(error)" }
                        }
                    }
                    return outcome
                }
            }
            var all: [WorkerOutcome] = []
            for await outcome in tasks { all.append(outcome) }
            return all
        }
        let elapsed = Double(monotonicNanoseconds() - start) / 1e9
        var latency = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        for outcome in outcomes { latency.add(outcome.latency) }
        let completed = outcomes.reduce(0) { $0 + $1.completed }
        return HandshakeReport(
            target: "\(host):\(port)",
            tls: tls != nil,
            version: version,
            requested: connections,
            concurrency: concurrency,
            threads: threads,
            completed: completed,
            failed: outcomes.reduce(0) { $0 + $1.failed },
            firstError: outcomes.lazy.compactMap(\.firstError).first,
            timedOut: completed + outcomes.reduce(0) { $0 + $1.failed } < connections,
            elapsed: elapsed,
            latency: latency,
            generatorCPU: CPUTime.process() - cpuBefore
        )
    }

    /// One connection from TCP connect to close.
    private func connectOnce(clientID: String, on loop: any EventLoop) async throws {
        let tls = tls
        let version = version
        let done = loop.makePromise(of: Void.self)
        do {
            _ = try await ClientBootstrap(group: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try tls?.addHandler(to: channel)
                        try channel.pipeline.syncOperations.addHandler(
                            ConnectOnceHandler(clientID: clientID, version: version, done: done))
                    }
                }
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(10))
                .connect(host: host, port: port)
                .get()
        } catch {
            done.fail(BenchError("cannot connect to \(host):\(port): \(error)"))
        }
        try await done.futureResult.get()
    }
}

/// What one worker of a handshake run counted.
private struct WorkerOutcome: Sendable {
    var completed = 0
    var failed = 0
    var firstError: String?
    var latency = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
}

/// Sends CONNECT once the connection is up, DISCONNECT after a successful CONNACK, and completes
/// `done` when the connection has closed (failing it if no CONNACK came, or a refusal).
final class ConnectOnceHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let clientID: String
    private let version: MQTTProtocolVersion
    private let done: EventLoopPromise<Void>
    private var framer = InboundFramer()
    private var accepted = false
    private var problem: String?
    private var timeout: Scheduled<Void>?

    init(clientID: String, version: MQTTProtocolVersion, done: EventLoopPromise<Void>) {
        self.clientID = clientID
        self.version = version
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        let connect = ConnectPacket(
            protocolVersion: version, clientIdentifier: clientID, cleanStart: true, keepAlive: benchKeepAlive)
        send(.connect(connect), context: context)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timeout = context.eventLoop.scheduleTask(in: .seconds(10)) {
            let (handler, context) = bound.value
            handler.problem = handler.problem ?? "no CONNACK within 10 s"
            context.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        framer.append(Self.unwrapInboundIn(data))
        do {
            while let packet = try framer.next(version: version) {
                guard case .connAck(let ack) = packet, !accepted else { continue }
                if let failure = connAckFailure(ack) {
                    problem = failure
                    context.close(promise: nil)
                    return
                }
                accepted = true
                send(.disconnect(DisconnectPacket()), context: context)
                context.close(promise: nil)
            }
        } catch {
            problem = "cannot decode what the broker sent: \(error)"
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        problem = problem ?? "\(error)"
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        if accepted {
            done.succeed()
        } else {
            done.fail(BenchError(problem ?? "the broker closed the connection before its CONNACK"))
        }
        context.fireChannelInactive()
    }

    private func send(_ packet: MQTTPacket, context: ChannelHandlerContext) {
        do {
            context.writeAndFlush(
                Self.wrapOutboundOut(try packet.encoded(context: context, version: version)), promise: nil)
        } catch {
            problem = "cannot encode \(packet.packetType): \(error)"
            context.close(promise: nil)
        }
    }
}

/// What a handshake run measured.
struct HandshakeReport: Sendable {
    var target: String
    var tls: Bool
    var version: MQTTProtocolVersion
    var requested: Int
    var concurrency: Int
    var threads: Int
    /// Connections that got their CONNACK and closed.
    var completed: Int
    var failed: Int
    var firstError: String?
    /// Whether the run ran out of time before every connection was tried.
    var timedOut: Bool
    var elapsed: Double
    /// Microseconds from connect to close, per connection.
    var latency: Histogram<UInt64>
    /// CPU seconds of the whole generator process during the run.
    var generatorCPU: Double

    /// Connections set up (and closed) per second.
    var rate: Double { elapsed > 0 ? Double(completed) / elapsed : 0 }

    private var outcome: String {
        if failed > 0 { return "failed" }
        return timedOut ? "timed-out" : "complete"
    }

    /// One JSON object.
    var json: String {
        var fields: [(String, String)] = [
            ("target", quoted(target)),
            ("mode", quoted("handshakes")),
            ("tls", tls ? "true" : "false"),
            ("mqtt", quoted(version.description)),
            ("connections", "\(requested)"),
            ("concurrency", "\(concurrency)"),
            ("threads", "\(threads)"),
            ("outcome", quoted(outcome)),
            ("completed", "\(completed)"),
            ("failed", "\(failed)"),
            ("elapsed_s", decimal(elapsed, 4)),
            ("rate", decimal(rate, 1)),
            (
                "latency_us",
                "{\"p50\": \(latency.valueAtPercentile(50)), \"p99\": \(latency.valueAtPercentile(99)), "
                    + "\"max\": \(latency.max)}"
            ),
            ("generator_cpu_s", decimal(generatorCPU, 4)),
        ]
        if let firstError { fields.append(("error", quoted(firstError))) }
        return "{" + fields.map { "\(quoted($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }

    /// A few lines for a person.
    var text: String {
        var lines = [
            "wharf-bench handshakes against \(target) over \(tls ? "TLS" : "TCP"), MQTT \(version): "
                + "\(requested) connections, \(concurrency) at once, \(threads) thread(s)",
            "outcome      \(outcome)\(firstError.map { ": \(failed) failed, first: \($0)" } ?? "")",
            "completed    \(completed) in \(decimal(elapsed, 3)) s: \(decimal(rate, 0)) connections/s",
            "latency      p50 \(latency.valueAtPercentile(50)) µs  p99 \(latency.valueAtPercentile(99)) µs  "
                + "max \(latency.max) µs (connect to close)",
            "generator    \(decimal(generatorCPU, 3)) CPU s (whole process)",
        ]
        if timedOut { lines.append("timed out    before every connection was tried") }
        return lines.joined(separator: "\n")
    }
}
