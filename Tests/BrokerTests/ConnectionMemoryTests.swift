import Logging
import MQTTCodec
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import Broker

/// What an idle connection keeps: one entry in its event loop's deadlines (no timer of its own),
/// no hold on NIO's receive buffer, and a log that builds its metadata only for lines it writes.
@Suite struct ConnectionMemoryTests {
    @Test func eachConnectionHasOneDeadlineUntilItNeedsNoneOrCloses() throws {
        let harness = BrokerHarness()
        let clients = try (0..<3).map { _ in try harness.connection() }
        let deadlines = harness.broker.connectionDeadlines.deadlines(on: harness.loop)
        #expect(deadlines.count == 3, "one CONNECT deadline each")
        _ = try clients[0].connect("a", keepAlive: 30)
        // MQTT 5 clients without keep alive get the server's; an MQTT 3.1.1 one keeps none.
        clients[1].version = .v311
        _ = try clients[1].connect("b", keepAlive: 0)
        #expect(deadlines.count == 2, "keep alive 0: no deadline; keep alive 30: one, moved")
        try clients[2].channel.close().wait()
        harness.loop.run()
        #expect(deadlines.count == 1)
        try clients[0].channel.close().wait()
        harness.loop.run()
        #expect(deadlines.count == 0)
    }

    @Test func connectionsOnOneLoopExpireEachAtItsOwnTime() throws {
        let harness = BrokerHarness()
        let quick = try harness.connection()
        let slow = try harness.connection()
        let silent = try harness.connection()
        _ = try slow.connect("slow", keepAlive: 10)
        _ = try quick.connect("quick", keepAlive: 2)
        harness.loop.advanceTime(by: .milliseconds(3100))
        #expect(!quick.isActive && slow.isActive && silent.isActive)
        harness.loop.advanceTime(by: MQTTConnectionHandler.connectTimeout - .milliseconds(3100))
        #expect(!silent.isActive, "no CONNECT within the timeout")
        #expect(slow.isActive)
        harness.loop.advanceTime(by: .seconds(5))
        #expect(!slow.isActive)
    }

    @Test func aReadThatEndsInsideAPacketLeavesNIOsBufferFree() throws {
        let harness = BrokerHarness()
        let client = try harness.connection()
        _ = try client.connect("partial")
        var whole = ByteBuffer()
        try MQTTPacket.publish(PublishPacket(topic: "a/b", payload: ByteBuffer(string: "0123456789")))
            .encode(into: &whole, version: .v5)
        let read = whole.getSlice(at: 0, length: 7) ?? ByteBuffer()
        let readStart = read.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        try client.channel.writeInbound(read)
        let handler = try client.channel.pipeline.syncOperations.handler(type: MQTTConnectionHandler.self)
        let held = try #require(handler.inbound)
        #expect(held.readableBytes == 7)
        #expect(held.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } != readStart, "a slice of the read")
        try client.channel.writeInbound(whole.getSlice(at: 7, length: whole.readableBytes - 7) ?? ByteBuffer())
        #expect(handler.inbound == nil)
    }

    @Test func theLogAddsTheConnectionsMetadataOnlyToLinesItWrites() throws {
        let lines = CapturedLines()
        var base = Logger(label: "test", factory: { _ in CapturingHandler(lines: lines) })
        base.logLevel = .info
        var log = ConnectionLog(base: base)
        log.peer = try SocketAddress(ipAddress: "127.0.0.2", port: 4711)
        log.clientIdentifier = "sensor-1"
        log[metadataKey: "mqtt.username"] = "alice"
        let evaluated = Atomic<Int>(0)
        log.debug("\(evaluated.add(1, ordering: .relaxed).newValue)")
        log.info("refused", metadata: ["mqtt.reason_code": "135"])
        #expect(evaluated.load(ordering: .relaxed) == 0, "a filtered line was built")
        let captured = lines.all
        #expect(captured.map(\.message) == ["refused"])
        #expect(
            captured.first?.metadata == [
                "mqtt.peer": "[IPv4]127.0.0.2:4711", "mqtt.client_id": "sensor-1",
                "mqtt.username": "alice", "mqtt.reason_code": "135",
            ])
    }
}

/// Log lines with their metadata (the handler's and the line's).
final class CapturedLines: Sendable {
    private let lines = Mutex<[(message: String, metadata: [String: String])]>([])

    func append(_ message: String, _ metadata: [String: String]) {
        lines.withLock { $0.append((message, metadata)) }
    }

    var all: [(message: String, metadata: [String: String])] { lines.withLock { $0 } }
}

struct CapturingHandler: LogHandler {
    let lines: CapturedLines
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        lines.append("\(event.message)", merged.mapValues { "\($0)" })
    }
}
