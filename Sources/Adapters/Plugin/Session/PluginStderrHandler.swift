import CoreMetrics
import Logging
import NIOCore
import WharfCore

/// Puts each line a plugin writes to its stderr into wharfd's log under the plugin's name, at
/// info, rate-limited; a line longer than 4 KiB is cut there.
final class PluginStderrHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// The longest stderr line logged.
    static let maxLineBytes = 4096

    private let logger: Logger
    private let clock: any WharfClock
    private let metrics: PluginMetrics
    private var buffer = ByteBuffer()
    private var budget = LogBudget()
    /// Skipping the rest of a line that was logged cut, and how much of it so far.
    private var skippingLine = false
    private var skippedBytes = 0

    init(logger: Logger, clock: any WharfClock, metrics: PluginMetrics) {
        self.logger = logger
        self.clock = clock
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        splitLines()
        buffer.discardReadBytes()
    }

    /// Logs every complete line; a line longer than the limit is logged cut at it, and the rest
    /// of it is skipped up to its newline and its length said.
    private func splitLines() {
        while buffer.readableBytes > 0 {
            let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n"))
            if skippingLine {
                guard let newline else {
                    skippedBytes += buffer.readableBytes
                    buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                    return
                }
                skippedBytes += newline - buffer.readerIndex
                buffer.moveReaderIndex(to: newline + 1)
                emit("(the line above went on for \(skippedBytes) more bytes)")
                skippingLine = false
                skippedBytes = 0
                continue
            }
            if let newline, newline - buffer.readerIndex <= Self.maxLineBytes {
                var line = buffer.readSlice(length: newline - buffer.readerIndex) ?? ByteBuffer()
                buffer.moveReaderIndex(forwardBy: 1)
                if line.readableBytesView.last == UInt8(ascii: "\r") { line.moveWriterIndex(to: line.writerIndex - 1) }
                emit(String(decoding: line.readableBytesView, as: UTF8.self))
                continue
            }
            guard buffer.readableBytes > Self.maxLineBytes else { return }
            let head = buffer.readSlice(length: Self.maxLineBytes) ?? ByteBuffer()
            emit(String(decoding: head.readableBytesView, as: UTF8.self) + " [cut at \(Self.maxLineBytes) bytes]")
            skippingLine = true
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent {
            flushRest()
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        flushRest()
        context.fireChannelInactive()
    }

    private func flushRest() {
        if buffer.readableBytes > 0 && !skippingLine {
            emit(String(decoding: buffer.readableBytesView, as: UTF8.self))
        }
        buffer.clear()
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
