import Logging
import NIOCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Keeps a listener working when file descriptors run short.
///
/// First, client sockets never take the descriptors the rest of the process needs: while the
/// listeners hold their ``DescriptorBudget`` of sockets, this handler holds back the listener's
/// `read()`, so nothing is accepted (NIO stops polling the socket: no CPU is spent) and new
/// clients wait in the kernel's listen backlog until a connection closes.
///
/// Second, when the process (EMFILE) or the system (ENFILE) runs out anyway, a failed `accept`
/// leaves the connection in the backlog and the listening socket readable, and NIO retries at
/// once, forever: one core spinning while clients hang without a CONNACK. (NIO's
/// `AcceptBackoffHandler` cannot help: after an accept error the channel keeps its read pending,
/// so no new `read()` reaches a handler.) So the listener holds one spare descriptor. When accept
/// fails for lack of descriptors, the spare is closed, which lets the next accept succeed; that
/// connection, and any accepted until the spare can be opened again, is closed at once, so those
/// clients learn it immediately and retry later. The backlog drains and the loop goes idle;
/// connected clients are served throughout.
///
/// Both are counted and logged at most once a minute.
final class AcceptGuard: ChannelDuplexHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel
    typealias OutboundIn = Never

    /// How often a listener holding back its reads looks again (another listener's clients may
    /// have closed meanwhile).
    static let recheckInterval = TimeAmount.milliseconds(100)

    private let listener: String
    private let flowControl: BrokerFlowControl
    private let logger: Logger
    /// The spare descriptor, or -1 while it is given up.
    private var spare: CInt
    private var readHeld = false
    /// Set from the first held read until a read passes again: one pause, however many rechecks.
    private var paused = false
    private var recheck: Scheduled<Void>?
    private var exhaustionLog = LogThrottle(interval: 60_000_000_000)
    private var budgetLog = LogThrottle(interval: 60_000_000_000)

    init(listener: String, flowControl: BrokerFlowControl, logger: Logger) {
        self.listener = listener
        self.flowControl = flowControl
        self.logger = logger
        self.spare = Self.openSpare()
    }

    deinit {
        if spare >= 0 { closeDescriptor(spare) }
    }

    private static func openSpare() -> CInt {
        open("/dev/null", O_RDONLY | O_CLOEXEC)
    }

    // MARK: The descriptor budget

    func read(context: ChannelHandlerContext) {
        let budget = flowControl.socketBudget.load(ordering: .relaxed)
        guard flowControl.openSockets.load(ordering: .relaxed) >= budget else {
            paused = false
            context.read()
            return
        }
        readHeld = true
        if !paused {
            paused = true
            flowControl.acceptPauses.add(1, ordering: .relaxed)
            if let pauses = budgetLog.occurred(now: NIODeadline.now().uptimeNanoseconds) {
                logger.warning(
                    "not accepting new connections: the open-file limit leaves no room for more clients",
                    metadata: [
                        "listener": "\(listener)",
                        "accept.budget": "\(budget)",
                        "accept.pauses": "\(pauses)",
                        "accept.hint": "raise LimitNOFILE (ulimit -n)",
                    ]
                )
            }
        }
        scheduleRecheck(context: context)
    }

    private func scheduleRecheck(context: ChannelHandlerContext) {
        guard recheck == nil else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        recheck = context.eventLoop.scheduleTask(in: Self.recheckInterval) {
            let (handler, context) = loopBound.value
            handler.recheck = nil
            handler.releaseHeldRead(context: context)
        }
    }

    private func releaseHeldRead(context: ChannelHandlerContext) {
        guard readHeld else { return }
        readHeld = false
        read(context: context)
    }

    // MARK: Accepted connections

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = unwrapInboundIn(data)
        guard spare >= 0 else {
            flowControl.connectionsShed.add(1, ordering: .relaxed)
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            child.close().hop(to: context.eventLoop).whenComplete { _ in
                loopBound.value.reopenSpare()
            }
            return
        }
        flowControl.openSockets.add(1, ordering: .relaxed)
        let flowControl = self.flowControl
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        child.closeFuture.whenComplete { _ in
            flowControl.openSockets.subtract(1, ordering: .relaxed)
            loopBound.eventLoop.execute {
                let (handler, context) = loopBound.value
                handler.releaseHeldRead(context: context)
            }
        }
        context.fireChannelRead(data)
    }

    // MARK: Out of descriptors

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let error = error as? IOError, error.errnoCode == EMFILE || error.errnoCode == ENFILE else {
            context.fireErrorCaught(error)
            return
        }
        flowControl.acceptFailures.add(1, ordering: .relaxed)
        if let failures = exhaustionLog.occurred(now: NIODeadline.now().uptimeNanoseconds) {
            logger.error(
                "out of file descriptors: new MQTT connections are closed at once until some are free",
                metadata: [
                    "listener": "\(listener)",
                    "error": "\(error)",
                    "accept.failures": "\(failures)",
                    "accept.hint":
                        "\(error.errnoCode == EMFILE ? "raise LimitNOFILE (ulimit -n)" : "the system's fs.file-max is reached")",
                ]
            )
        }
        if spare >= 0 {
            // Frees one descriptor: the accept that follows takes it, and that connection is closed.
            closeDescriptor(spare)
            spare = -1
        }
    }

    private func reopenSpare() {
        guard spare < 0 else { return }
        spare = Self.openSpare()
    }

    func channelInactive(context: ChannelHandlerContext) {
        recheck?.cancel()
        recheck = nil
        if spare >= 0 {
            closeDescriptor(spare)
            spare = -1
        }
        context.fireChannelInactive()
    }
}

/// `close(2)`, out of reach of the handler's own `close(context:mode:promise:)`.
private func closeDescriptor(_ descriptor: CInt) {
    _ = close(descriptor)
}
