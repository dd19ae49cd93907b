import AdapterKit
import CoreMetrics
import Logging
import NIOCore
import PluginProtocol
import Synchronization
import WharfCore

/// What a session tells the plugin's runner.
enum SessionEvent: Sendable {
    /// The plugin answered `init` with an acceptable `ready`.
    case ready(ReadyMessage)
    /// The plugin chose a protocol version this wharfd does not speak; the sentence says which.
    case versionMismatch(String)
    /// The plugin reported its health.
    case health(HealthReport)
    /// The plugin's stdout closed (it exited, or closed it).
    case closed
}

/// What a session is given.
struct SessionSetup: Sendable {
    /// The adapter's name (the `plugin:NAME` principal's NAME).
    var name: String
    var bus: any MessageBus
    var credit: Int
    var maxLineBytes: Int
    var logger: Logger
    var clock: any WharfClock
    var metrics: PluginMetrics
    var board: PluginBoard
    var commands: CommandQueue
    var liveness: Liveness
    var events: @Sendable (SessionEvent) -> Void
}

/// The time of the last line a plugin wrote, shared with its runner without a lock.
final class Liveness: Sendable {
    private let lastLine = Atomic<UInt64>(0)
    private let violations = Atomic<Int>(0)

    /// Records a line at `now`.
    func line(at now: UInt64) { lastLine.store(now, ordering: .relaxed) }
    /// The time of the last line, 0 before the first.
    var lastLineAt: UInt64 { lastLine.load(ordering: .relaxed) }
    /// Records a publish beyond the credit.
    func creditViolation() { violations.add(1, ordering: .relaxed) }
    /// Publishes beyond the credit so far.
    var creditViolations: Int { violations.load(ordering: .relaxed) }
}

/// One plugin process's protocol session on its stdout/stdin pipe channel: frames and decodes
/// its lines, routes its publishes as the principal `plugin:NAME` and answers each with `ack`
/// or `nack` once the router kept its promise, enforces the credit by not reading while a
/// publish beyond it is held, writes commands from its subscriptions as the pipe drains, and
/// counts and reports everything that is not protocol without ever closing for it.
final class PluginSessionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Phase { case awaitingReady, ready, refused, closed }

    private let setup: SessionSetup
    private let principal: Principal
    private var framer: LineFramer
    private var buffer = ByteBuffer()
    private var phase = Phase.awaitingReady
    private var context: ChannelHandlerContext?

    /// QoS 1/2 publishes routed and not yet answered.
    private var inFlight = 0
    /// A publish read beyond the credit, routed once an answer frees one.
    private var held: PluginPublish?
    /// A `read()` the pipeline asked for while throttled.
    private var pendingRead = false
    private var flushScheduled = false
    private var subscriptions: [BusSubscription] = []

    private var counts = Counts()
    /// The receive time of the lines being handled: read once per batch, not once per line.
    private var batchTime: UInt64 = 0
    private var logBudget = LogBudget()

    private struct Counts {
        var acked = 0
        var nacked = 0
        var nackReasons: [String: Int] = [:]
        var garbage: [String: Int] = [:]
        var creditStalls = 0
        var commands = 0
        var sawLine = false
        var isEmpty: Bool {
            acked == 0 && nacked == 0 && garbage.isEmpty && creditStalls == 0 && commands == 0 && !sawLine
        }
    }

    init(setup: SessionSetup) {
        self.setup = setup
        self.principal = .plugin(setup.name)
        self.framer = LineFramer(maxLineBytes: setup.maxLineBytes)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        end()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if buffer.readableBytes == 0 {
            buffer = incoming
        } else {
            buffer.writeBuffer(&incoming)
        }
        process(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushNow(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        end()
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            drainCommands()
            resumeReadingIfAllowed(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The plugin closed its stdout (half-closure): it is exiting or has broken the pipe.
        if event is ChannelEvent, case .inputClosed = event as? ChannelEvent {
            end()
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        setup.logger.warning(
            "plugin pipe failed", metadata: ["plugin.error": "\(error)"])
        context.close(promise: nil)
    }

    /// Reading pauses while a publish beyond the credit is held, and while what wharfd writes to
    /// the plugin is backed up (a plugin that does not read its answers): then the plugin's own
    /// stdout fills and it blocks, instead of answers piling up in wharfd.
    func read(context: ChannelHandlerContext) {
        if held != nil || !context.channel.isWritable {
            if !context.channel.isWritable && !pendingRead {
                warn("plugin does not read its stdin; reading its output paused until it does", [:])
            }
            pendingRead = true
        } else {
            context.read()
        }
    }

    private func resumeReadingIfAllowed(context: ChannelHandlerContext) {
        guard pendingRead, held == nil, context.channel.isWritable else { return }
        pendingRead = false
        context.read()
    }

    // MARK: Host → plugin

    /// Writes one host message and flushes it.
    func send(_ message: HostMessage) {
        guard let context, phase != .closed else { return }
        var out = context.channel.allocator.buffer(capacity: 256)
        HostMessageEncoder.encode(message, into: &out)
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }

    /// Writes queued commands while the pipe takes them.
    func drainCommands() {
        guard let context, phase == .ready else { return }
        var written = 0
        while context.channel.isWritable, let message = setup.commands.pop() {
            var out = context.channel.allocator.buffer(capacity: message.payload.readableBytes + 128)
            HostMessageEncoder.encode(
                .command(
                    CommandMessage(
                        topic: message.topic,
                        payload: message.payload,
                        qos: message.qos,
                        retain: message.retain,
                        properties: message.properties
                    )),
                into: &out
            )
            context.write(wrapOutboundOut(out), promise: nil)
            written += 1
        }
        if written > 0 {
            counts.commands += written
            context.flush()
            scheduleFlush()
        }
    }

    // MARK: Plugin → host

    /// Handles complete lines until the buffer has none or a publish beyond the credit is held.
    private func process(context: ChannelHandlerContext) {
        batchTime = setup.clock.now()
        while held == nil, phase != .closed, let framed = framer.next(from: &buffer) {
            counts.sawLine = true
            switch framed {
            case .oversized(let byteCount):
                garbage(
                    kind: "oversized", id: nil,
                    detail: "a line of \(byteCount) bytes, over the limit of \(setup.maxLineBytes); discarded")
            case .line(let line):
                handle(line: line)
            }
        }
        if buffer.readableBytes == 0 {
            buffer.clear()
        } else if buffer.readerIndex > 65536 {
            buffer.discardReadBytes()
        }
    }

    private func handle(line: ByteBuffer) {
        switch PluginMessageDecoder.decode(line) {
        case .failure(let failure):
            garbage(kind: failure.kind.rawValue, id: failure.id, detail: failure.detail, nackReason: failure.nackReason)
        case .success(let message):
            switch message {
            case .publish(let publish):
                guard phase == .ready else {
                    garbage(
                        kind: phase == .awaitingReady ? "before-ready" : "invalid", id: publish.id,
                        detail: "publish to '\(publish.topic)' before a valid ready")
                    return
                }
                if publish.qos != .atMostOnce && inFlight >= setup.credit {
                    held = publish
                    counts.creditStalls += 1
                    setup.liveness.creditViolation()
                    warn(
                        "plugin published beyond its credit; reading paused until it is answered",
                        ["plugin.credit": "\(setup.credit)"])
                    return
                }
                route(publish)
            case .ready(let ready):
                accept(ready)
            case .health(let report):
                setup.events(.health(report))
            case .log(let record):
                log(record)
            }
        }
    }

    private func accept(_ ready: ReadyMessage) {
        guard phase == .awaitingReady else {
            garbage(kind: "invalid", id: nil, detail: "a second ready")
            return
        }
        let range = PluginProtocolVersion.supported
        guard range.contains(ready.protocolVersion) else {
            phase = .refused
            setup.events(
                .versionMismatch(
                    "plugin '\(setup.name)' (\(ready.name) \(ready.version)) speaks protocol \(ready.protocolVersion); "
                        + "this wharfd speaks \(range.lowerBound) to \(range.upperBound)"))
            return
        }
        phase = .ready
        setup.commands.open()
        var refused: [String] = []
        let commands = setup.commands
        let metrics = setup.metrics
        let board = setup.board
        for request in ready.subscriptions {
            guard let context else { break }
            let loop = context.eventLoop
            let bound = NIOLoopBound(self, eventLoop: loop)
            do {
                let subscription = try setup.bus.subscribe(
                    filter: request.filter, qos: request.qos, principal: principal
                ) { message in
                    switch commands.push(message) {
                    case .queued(let scheduleDrain):
                        if scheduleDrain { loop.execute { bound.value.drainCommands() } }
                    case .dropped:
                        metrics.commandsDropped.increment()
                        board.update { $0.commandsDropped += 1 }
                    }
                }
                subscriptions.append(subscription)
            } catch {
                refused.append("\(request.filter): \(error.message)")
                setup.logger.warning(
                    "plugin subscription refused",
                    metadata: ["plugin.filter": "\(request.filter)", "plugin.reason": "\(error.message)"])
            }
        }
        setup.board.update {
            $0.refusedSubscriptions = refused
            $0.protocolVersion = ready.protocolVersion
            $0.pluginName = ready.name
            $0.pluginVersion = ready.version
        }
        setup.events(.ready(ready))
    }

    private func route(_ publish: PluginPublish) {
        guard let context else { return }
        let message = Message(
            topic: publish.topic,
            payload: publish.payload,
            qos: publish.qos,
            retain: publish.retain,
            properties: publish.properties,
            principal: principal,
            receivedAt: batchTime
        )
        let counted = publish.qos != .atMostOnce
        let id = publish.id
        if !counted && id == nil {
            // Nothing to answer: no closure, no hop back to this loop. A refusal is still counted
            // and logged when the router decides at once (it always does at QoS 0 today).
            if case .finished(let result) = setup.bus.publish(message, completion: Self.unanswered) {
                answered(id: nil, counted: false, result: result)
            } else {
                counts.acked += 1
            }
            return
        }
        if counted { inFlight += 1 }
        let loop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        let progress = setup.bus.publish(message) { result in
            loop.execute { bound.value.answered(id: id, counted: counted, result: result) }
        }
        if case .finished(let result) = progress {
            answered(id: id, counted: counted, result: result)
        }
    }

    /// The completion of a publish nobody is waiting for.
    private static let unanswered: @Sendable (Result<PublishReceipt, PublishError>) -> Void = { _ in }

    /// The router's answer to one publish.
    private func answered(id: MessageID?, counted: Bool, result: Result<PublishReceipt, PublishError>) {
        guard phase != .closed else { return }
        if counted { inFlight -= 1 }
        switch result {
        case .success:
            counts.acked += 1
            if let id { write(.ack(id)) }
        case .failure(let error):
            counts.nacked += 1
            counts.nackReasons[error.reason, default: 0] += 1
            if let id { write(.nack(id, reason: error.reason, message: error.message)) }
            warn("plugin publish refused", ["plugin.reason": "\(error.reason)", "plugin.error": "\(error.message)"])
        }
        if held != nil && inFlight < setup.credit { resume() }
    }

    /// Routes the held publish and goes on reading.
    private func resume() {
        guard let publish = held, let context else { return }
        held = nil
        batchTime = setup.clock.now()
        route(publish)
        process(context: context)
        resumeReadingIfAllowed(context: context)
    }

    // MARK: Garbage and logs

    private func garbage(kind: String, id: MessageID?, detail: String, nackReason: String = "invalid") {
        counts.garbage[kind, default: 0] += 1
        if let id {
            counts.nacked += 1
            counts.nackReasons[nackReason, default: 0] += 1
            write(.nack(id, reason: nackReason, message: detail))
        }
        warn(
            "plugin wrote a line that is not valid protocol",
            ["plugin.garbage": "\(kind)", "plugin.detail": "\(detail)"])
    }

    private func log(_ record: LogRecord) {
        let budget = logBudget.allow(now: setup.clock.now())
        guard budget.allowed else {
            setup.metrics.logLinesSuppressed.increment()
            return
        }
        var metadata: Logger.Metadata = [:]
        for field in record.fields { metadata["plugin.fields.\(field.key)"] = "\(field.value)" }
        if budget.suppressedBefore > 0 { metadata["plugin.suppressed_lines"] = "\(budget.suppressedBefore)" }
        let level: Logger.Level =
            switch record.level {
            case .debug: .debug
            case .info: .info
            case .notice: .notice
            case .warning: .warning
            case .error: .error
            }
        setup.logger.log(level: level, "\(record.message)", metadata: metadata)
    }

    private func warn(_ message: Logger.Message, _ metadata: Logger.Metadata) {
        let budget = logBudget.allow(now: setup.clock.now())
        guard budget.allowed else {
            setup.metrics.logLinesSuppressed.increment()
            return
        }
        var metadata = metadata
        if budget.suppressedBefore > 0 { metadata["plugin.suppressed_lines"] = "\(budget.suppressedBefore)" }
        setup.logger.warning(message, metadata: metadata)
    }

    // MARK: Writing and statistics

    private func write(_ message: HostMessage) {
        guard let context else { return }
        var out = context.channel.allocator.buffer(capacity: 64)
        HostMessageEncoder.encode(message, into: &out)
        context.write(wrapOutboundOut(out), promise: nil)
        scheduleFlush()
    }

    /// Flushes once after the answers that arrive together, not once per answer.
    private func scheduleFlush() {
        guard !flushScheduled, let context else { return }
        flushScheduled = true
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = bound.value
            if let context = handler.context { handler.flushNow(context: context) }
        }
    }

    private func flushNow(context: ChannelHandlerContext) {
        flushScheduled = false
        context.flush()
        publishStatistics()
    }

    private func publishStatistics() {
        guard !counts.isEmpty else { return }
        let counts = self.counts
        self.counts = Counts()
        if counts.sawLine { setup.liveness.line(at: setup.clock.now()) }
        let metrics = setup.metrics
        if counts.acked > 0 { metrics.acked.increment(by: Int64(counts.acked)) }
        if counts.nacked > 0 { metrics.nacked.increment(by: Int64(counts.nacked)) }
        for (reason, count) in counts.nackReasons { metrics.nack(reason: reason, count: count) }
        for (kind, count) in counts.garbage { metrics.garbage(kind: kind, count: count) }
        if counts.creditStalls > 0 { metrics.creditStalls.increment(by: Int64(counts.creditStalls)) }
        if counts.commands > 0 { metrics.commands.increment(by: Int64(counts.commands)) }
        let garbageLines = counts.garbage.values.reduce(0, +)
        setup.board.update {
            $0.publishes += counts.acked
            $0.nacks += counts.nacked
            $0.garbageLines += garbageLines
            $0.creditStalls += counts.creditStalls
            $0.commands += counts.commands
        }
    }

    /// The session is over: nothing more is routed or answered, subscriptions go, queued
    /// commands are dropped and counted.
    private func end() {
        guard phase != .closed else { return }
        publishStatistics()
        phase = .closed
        held = nil
        for subscription in subscriptions { subscription.cancel() }
        subscriptions.removeAll()
        let dropped = setup.commands.close()
        if dropped > 0 {
            setup.metrics.commandsDropped.increment(by: Int64(dropped))
            setup.board.update { $0.commandsDropped += dropped }
        }
        setup.events(.closed)
    }
}
