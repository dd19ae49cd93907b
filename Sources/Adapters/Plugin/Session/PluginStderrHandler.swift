import CoreMetrics
import Logging
import NIOCore
import PluginProtocol
import WharfCore

/// Puts each line a plugin writes to its stderr into wharfd's log under the plugin's name, at
/// info, rate-limited; a line longer than 4 KiB is reported by its length only.
final class PluginStderrHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// The longest stderr line logged.
    static let maxLineBytes = 4096

    private let logger: Logger
    private let clock: any WharfClock
    private let metrics: PluginMetrics
    private var framer = LineFramer(maxLineBytes: PluginStderrHandler.maxLineBytes)
    private var buffer = ByteBuffer()
    private var budget = LogBudget()

    init(logger: Logger, clock: any WharfClock, metrics: PluginMetrics) {
        self.logger = logger
        self.clock = clock
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        while let framed = framer.next(from: &buffer) {
            switch framed {
            case .line(let line):
                emit(String(decoding: line.readableBytesView, as: UTF8.self))
            case .oversized(let byteCount):
                emit("(a stderr line of \(byteCount) bytes, over \(Self.maxLineBytes), not shown)")
            }
        }
        buffer.discardReadBytes()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent {
            if buffer.readableBytes > 0 {
                emit(String(decoding: buffer.readableBytesView, as: UTF8.self))
                buffer.clear()
            }
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func emit(_ line: String) {
        let decision = budget.allow(now: clock.now())
        guard decision.allowed else {
            metrics.logLinesSuppressed.increment()
            return
        }
        var metadata: Logger.Metadata = ["plugin.stream": "stderr"]
        if decision.suppressedBefore > 0 { metadata["plugin.suppressed_lines"] = "\(decision.suppressedBefore)" }
        logger.info("\(line)", metadata: metadata)
    }
}
