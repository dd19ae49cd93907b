import AdapterKit
import Logging
import NIOCore
import NIOEmbedded
import Synchronization
import WharfCore

@testable import WharfPlugins

/// A plugin session on an EmbeddedChannel: the test writes the plugin's lines and reads what
/// the host wrote back.
final class SessionHarness {
    let channel = EmbeddedChannel()
    let bus = ScriptedBus()
    let board = PluginBoard()
    let liveness = Liveness()
    let commands: CommandQueue
    private let eventLog = EventLog()
    private let readCounter = ReadCounter()

    /// Counts the `read()` requests the session passes on towards the pipe.
    final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var count = 0
        func read(context: ChannelHandlerContext) {
            count += 1
            context.read()
        }
    }

    /// `read()` requests that reached the pipe.
    var readRequests: Int { readCounter.count }

    final class EventLog: Sendable {
        let events = Mutex<[SessionEvent]>([])
    }

    init(credit: Int = 2, maxLineBytes: Int = 1024, maxQueuedCommands: Int = 3) throws {
        commands = CommandQueue(maxCount: maxQueuedCommands, maxBytes: 1 << 20)
        let log = eventLog
        let setup = SessionSetup(
            name: "p1",
            bus: bus,
            credit: credit,
            maxLineBytes: maxLineBytes,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            clock: SystemClock(),
            metrics: PluginMetrics(adapter: "p1"),
            board: board,
            commands: commands,
            liveness: liveness,
            events: { event in log.events.withLock { $0.append(event) } }
        )
        try channel.pipeline.syncOperations.addHandler(readCounter)
        try channel.pipeline.syncOperations.addHandler(PluginSessionHandler(setup: setup))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    }

    /// Sends lines as the plugin would (each gets its newline).
    func plugin(_ lines: String...) throws {
        try channel.writeInbound(ByteBuffer(string: lines.map { $0 + "\n" }.joined()))
        channel.pipeline.fireChannelReadComplete()
    }

    /// Sends raw bytes as the plugin would.
    func pluginBytes(_ bytes: [UInt8]) throws {
        try channel.writeInbound(ByteBuffer(bytes: bytes))
        channel.pipeline.fireChannelReadComplete()
    }

    /// Every line the host wrote since the last call.
    func hostLines() throws -> [String] {
        var lines: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            lines += String(buffer: buffer).split(separator: "\n").map(String.init)
        }
        return lines
    }

    var events: [SessionEvent] { eventLog.events.withLock { $0 } }

    /// Runs what was scheduled on the embedded loop (completions, flushes, drains).
    func settle() { channel.embeddedEventLoop.run() }

    func ready(subscriptions: String = "[]") throws {
        try plugin(
            #"{"type":"ready","protocol":1,"name":"t","version":"1","capabilities":[],"subscriptions":\#(subscriptions)}"#
        )
    }
}
