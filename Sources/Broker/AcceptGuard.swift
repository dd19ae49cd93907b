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
/// listeners hold their ``DescriptorBudget`` of sockets, a new connection is closed right after
/// accept, so the client learns at once that it cannot be served (rather than waiting unanswered
/// in the listen backlog) and can retry later; the accept costs one descriptor of the reserve for
/// a moment. A connection is closed on its own event loop, perhaps not this one, so a flood of
/// clients could hold many such descriptors at once: while ``maxRefusalsClosing`` are still
/// closing, the listener holds back its `read()` (NIO stops polling the socket) until one is
/// closed. Connected clients are served throughout, and new ones are accepted again as soon as
/// one leaves.
///
/// Second, when the process (EMFILE) or the system (ENFILE) runs out anyway, a failed `accept`
/// leaves the connection in the backlog and the listening socket readable, and NIO retries at
/// once, forever: one core spinning while clients hang without a CONNACK. (NIO's
/// `AcceptBackoffHandler` cannot help: after an accept error the channel keeps its read pending,
/// so no new `read()` reaches a handler.) So the listener holds one spare descriptor. When accept
/// fails for lack of descriptors, the spare is closed, which lets the next accept succeed; that
/// connection, and any accepted until the spare can be opened again, is closed at once, so those
/// clients learn it immediately and retry later. The backlog drains and the loop goes idle.
///
/// Both are counted and logged at most once a minute.
final class AcceptGuard: ChannelDuplexHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel
    typealias OutboundIn = Never

    /// Refused connections that may be closing at once, each holding a descriptor of the reserve.
    static let maxRefusalsClosing = 4

    private let listener: String
    private let flowControl: BrokerFlowControl
    private let logger: Logger
    /// The spare descriptor, or -1 while it is given up.
    private var spare: CInt
    private var exhaustionLog = LogThrottle(interval: 60_000_000_000)
    private var budgetLog = LogThrottle(interval: 60_000_000_000)
    /// Refused connections not yet closed.
    private var refusalsClosing = 0
    /// A `read()` held back until a refused connection is closed.
    private var readHeld = false
    /// Run when an accepted connection closes. One closure for all of them: a closure made per
    /// connection would cost each idle client an allocation for as long as it stays.
    private let released: @Sendable (Result<Void, any Error>) -> Void

    init(listener: String, flowControl: BrokerFlowControl, logger: Logger) {
        self.listener = listener
        self.flowControl = flowControl
        self.logger = logger
        self.spare = Self.openSpare()
        self.released = { _ in flowControl.openSockets.subtract(1, ordering: .relaxed) }
    }

    deinit {
        if spare >= 0 { closeDescriptor(spare) }
    }

    private static func openSpare() -> CInt {
        open("/dev/null", O_RDONLY | O_CLOEXEC)
    }

    // MARK: Reading

    func read(context: ChannelHandlerContext) {
        guard refusalsClosing < Self.maxRefusalsClosing else {
            readHeld = true
            return
        }
        context.read()
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
        let budget = flowControl.socketBudget.load(ordering: .relaxed)
        guard flowControl.openSockets.load(ordering: .relaxed) < budget else {
            refuse(child, budget: budget, context: context)
            return
        }
        flowControl.openSockets.add(1, ordering: .relaxed)
        child.closeFuture.whenComplete(released)
        context.fireChannelRead(data)
    }

    /// Closes a connection the descriptor budget has no room for.
    private func refuse(_ child: any Channel, budget: Int, context: ChannelHandlerContext) {
        flowControl.connectionsRefused.add(1, ordering: .relaxed)
        refusalsClosing += 1
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        child.close().hop(to: context.eventLoop).whenComplete { _ in
            let (handler, context) = loopBound.value
            handler.refusalClosed(context: context)
        }
        if let refused = budgetLog.occurred(now: NIODeadline.now().uptimeNanoseconds) {
            logger.warning(
                "refusing new MQTT connections: the open-file limit leaves no room for more clients",
                metadata: [
                    "listener": "\(listener)",
                    "accept.budget": "\(budget)",
                    "accept.refused": "\(refused)",
                    "accept.hint": "raise LimitNOFILE (ulimit -n)",
                ]
            )
        }
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

    private func refusalClosed(context: ChannelHandlerContext) {
        refusalsClosing -= 1
        guard readHeld, refusalsClosing < Self.maxRefusalsClosing else { return }
        readHeld = false
        context.read()
    }

    private func reopenSpare() {
        guard spare < 0 else { return }
        spare = Self.openSpare()
    }

    func channelInactive(context: ChannelHandlerContext) {
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
