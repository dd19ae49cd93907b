import ArgumentParser
import MQTTCodec
import WharfCore

/// `wharf-bench`: a closed-loop MQTT load generator for any broker.
@main
struct WharfBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wharf-bench",
        abstract: "Closed-loop MQTT load generator: throughput, latency and CPU cost of a broker.",
        discussion: """
            Each publisher keeps at most --window messages outstanding end to end (sent but not yet \
            received by all its subscribers), so no broker has to drop QoS 0 and latency is meaningful. \
            --loopback runs the same clients against a minimal broker inside this process, which shows \
            the generator's own ceiling. See docs/benchmarks.md.
            """
    )

    @Option(help: "Broker host.")
    var host = "127.0.0.1"

    @Option(help: "Broker port.")
    var port = 1883

    @Option(help: "fan-in (P publishers → 1 subscriber), fan-out (1 publisher → S subscribers), pairs (P pairs).")
    var scenario: Scenario = .pairs

    @Option(help: "QoS of publications and subscriptions: 0 or 1.")
    var qos = 0

    @Option(help: "Publishers (fan-in, pairs).")
    var publishers = 10

    @Option(help: "Subscribers (fan-out).")
    var subscribers = 10

    @Option(help: "Messages per publisher.")
    var messages = 10_000

    @Option(help: "Payload bytes (at least 16: publisher, sequence number, send time).")
    var payload = 64

    @Option(help: "End-to-end outstanding messages per publisher.")
    var window = 100

    @Option(help: "MQTT version: 3.1.1 or 5.")
    var mqtt = "5"

    @Option(help: "Event loop threads of the generator.")
    var threads = 1

    @Flag(help: "fan-in: each publisher on its own topic, the subscriber on a + wildcard.")
    var wildcard = false

    @Flag(help: "Target an in-process minimal broker instead of --host/--port (generator self-check).")
    var loopback = false

    @Option(help: "Give up after this many seconds in all.")
    var timeout = 300

    @Option(name: .customLong("idle-timeout"), help: "Give up after this many seconds without a delivery.")
    var idleTimeout = 10

    @Option(
        name: .customLong("tls-ca"), help: "Speak TLS, verifying the broker's certificate against this PEM CA bundle.")
    var tlsCA: String?

    @Flag(name: .customLong("tls-insecure"), help: "Speak TLS and take any certificate the broker shows.")
    var tlsInsecure = false

    @Option(help: "Measure connection set-up instead: make this many connections (CONNECT, CONNACK, DISCONNECT).")
    var handshakes: Int?

    @Option(help: "With --handshakes: connections under way at once.")
    var concurrency = 8

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Flag(
        name: .customLong("idle-server"),
        help: """
            Instead of generating load, serve idle MQTT connections on --host/--port with a bare NIO \
            pipeline (CONNACK, PINGRESP, nothing else) until stopped: NIO's own memory per connection.
            """)
    var idleServer = false

    @Option(
        name: .customLong("receive-buffer"),
        help: "With --idle-server: the receive buffer's first size in bytes (default: NIO's, 2048).")
    var receiveBuffer: Int?

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be 1...65535") }
        guard qos == 0 || qos == 1 else { throw ValidationError("--qos must be 0 or 1") }
        guard MQTTProtocolVersion(argument: mqtt) != nil else { throw ValidationError("--mqtt must be 3.1.1 or 5") }
        guard (1...100_000).contains(publishers) else { throw ValidationError("--publishers must be 1...100000") }
        guard (1...100_000).contains(subscribers) else { throw ValidationError("--subscribers must be 1...100000") }
        guard (1...Int(UInt32.max)).contains(messages) else { throw ValidationError("--messages must be at least 1") }
        guard payload >= PayloadStamp.size && payload <= 16 << 20 else {
            throw ValidationError("--payload must be \(PayloadStamp.size)...\(16 << 20) bytes")
        }
        guard (1...65535).contains(window) else { throw ValidationError("--window must be 1...65535") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be 1...64") }
        guard (1...86400).contains(timeout) else { throw ValidationError("--timeout must be 1...86400 seconds") }
        guard timeout < Int(benchKeepAlive) else {
            throw ValidationError("--timeout must stay below the \(benchKeepAlive) s keep-alive")
        }
        guard (1...3600).contains(idleTimeout) else { throw ValidationError("--idle-timeout must be 1...3600 seconds") }
        guard tlsCA == nil || !tlsInsecure else { throw ValidationError("give --tls-ca or --tls-insecure, not both") }
        guard !loopback || (tlsCA == nil && !tlsInsecure && handshakes == nil) else {
            throw ValidationError("--loopback speaks plain TCP and measures deliveries only")
        }
        if let handshakes, !(1...10_000_000).contains(handshakes) {
            throw ValidationError("--handshakes must be 1...10000000")
        }
        guard (1...10_000).contains(concurrency) else { throw ValidationError("--concurrency must be 1...10000") }
        if let receiveBuffer, !(16...(1 << 20)).contains(receiveBuffer) {
            throw ValidationError("--receive-buffer must be 16...1048576 bytes")
        }
    }

    func run() async throws {
        if idleServer {
            try await IdleServer(host: host, port: port, receiveBuffer: receiveBuffer).run()
            return
        }
        let tls = tlsCA != nil || tlsInsecure ? try BenchTLS(caFile: tlsCA, verify: !tlsInsecure) : nil
        let version = MQTTProtocolVersion(argument: mqtt) ?? .v5
        if let handshakes {
            let report = try await HandshakeRun(
                host: host,
                port: port,
                tls: tls,
                version: version,
                connections: handshakes,
                concurrency: concurrency,
                threads: threads,
                timeoutSeconds: timeout
            ).run()
            print(json ? report.json : report.text)
            if report.completed != handshakes { throw ExitCode(1) }
            return
        }
        let configuration = BenchConfiguration(
            host: host,
            port: port,
            scenario: scenario,
            qos: qos == 0 ? .atMostOnce : .atLeastOnce,
            publishers: publishers,
            subscribers: subscribers,
            messages: messages,
            payload: payload,
            window: window,
            version: version,
            threads: threads,
            wildcard: wildcard,
            timeoutSeconds: timeout,
            idleTimeoutSeconds: idleTimeout,
            loopback: loopback,
            tls: tls
        )
        let report = try await BenchRun(configuration: configuration).run()
        print(json ? report.json : report.text)
        if report.outcome != .complete || report.lost != 0 { throw ExitCode(1) }
    }
}

extension Scenario: ExpressibleByArgument {}
