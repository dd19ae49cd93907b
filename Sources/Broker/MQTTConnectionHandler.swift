import DequeModule
import Logging
import MQTTCodec
import NIOCore
import Synchronization
import WharfAuth
import WharfConfig
import WharfCore

/// The MQTT protocol engine of one client connection. Pinned to its channel's event loop:
/// it frames and decodes packets, runs CONNECT, PUBLISH, SUBSCRIBE and the acknowledgement
/// flows, and hands routed messages to the ``Router``. It stops reading from its socket while
/// the client must wait (``ReadGate``); see `MQTTConnectionHandler+FlowControl.swift`.
final class MQTTConnectionHandler: ChannelDuplexHandler, DeadlineQueueEntry {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct PendingAck {
        var ticket: UInt64
        var qos: QoS
        var identifier: UInt16
        var reason: ReasonCode?
        /// What the message holds while the store writes it (0 when nothing is written).
        var storeBytes = 0
    }

    enum State {
        case awaitingConnect
        case connected(Session, generation: UInt64)
        case closed
    }

    let broker: MQTTBroker
    var logger: ConnectionLog
    var state: State = .awaitingConnect
    var version: MQTTProtocolVersion = .v311
    var clientIdentifier = ""
    /// The listener this connection came through, by name (part of the client's principal).
    let listener: String
    /// Who the client is to the router's ACL; set once CONNECT is accepted.
    var principal: Principal?
    /// The will of this connection, published unless the client disconnects normally.
    var will: Message? {
        get { willBox?.value }
        set { willBox = newValue.map(Boxed.init) }
    }
    /// Out of line: a `Message` is 192 bytes, and most clients have no will.
    private var willBox: Boxed<Message>?
    var willDelay: UInt32 = 0
    /// Session Expiry Interval given in CONNECT (MQTT 5 forbids raising it from 0 later).
    var connectSessionExpiry: UInt32 = 0
    var topicAliases: [UInt16: String] = [:]
    var requestProblemInformation = true
    /// The client's MQTT 5 Maximum Packet Size; nothing larger is sent to it.
    var clientMaximumPacketSize = MQTTPacket.maximumSize
    /// Set once the connection is being closed: nothing more is read or routed.
    var closing = false
    /// PUBACK/PUBREC not yet sent, in PUBLISH order; `reason` is nil while the message is
    /// still being written to the store-and-forward queue.
    var pendingAcks: Deque<PendingAck> = []
    var nextAckTicket: UInt64 = 1
    /// Retained messages a SUBSCRIBE found that are still to be handed to the session.
    var retainedBacklog: Deque<OutboundMessage> = []

    /// Whether the connection reads and handles packets now, and why not.
    var readGate = ReadGate()
    /// `max_publish_rate` and `max_publish_bytes_rate`; nil when neither is set.
    var publishRate: PublishRate?
    /// Bytes of this client's messages waiting for the store (QoS 0 ones included).
    var pendingStoreBytes = 0

    /// Bytes read and not yet handled: at most one incomplete packet once the gate is open.
    private(set) var inbound: ByteBuffer?
    /// Set while ``handleInbound(context:)`` runs, so that a pause ending meanwhile does not
    /// start a second, nested pass.
    private var handlingInbound = false
    private var outbound: ByteBuffer?
    /// Set once the connection is counted and its CONNECT timeout runs.
    private var started = false
    /// 1.5 times the negotiated keep alive; nil when keep alive is off.
    var keepAliveTimeout: TimeAmount?
    /// When the client was last heard from (while keep alive runs), or when the connection
    /// started (until CONNECT).
    var lastActivity = NIODeadline.uptimeNanoseconds(0)
    /// The event loop's deadlines, holding this connection's CONNECT or keep-alive deadline.
    private var deadlines: ConnectionDeadlines?
    /// This handler's context while it has a deadline, for closing the connection when it passes.
    private var deadlineContext: ChannelHandlerContext?
    /// Its place in the event loop's deadlines (see ``DeadlineQueueEntry``).
    var deadlineSlot = -1
    private var counters = (packets: 0, bytes: 0, publishes: 0, publishBytes: 0)

    /// How long a new connection may take to send CONNECT before it is closed; on a TLS listener
    /// this includes the handshake.
    static let connectTimeout = TimeAmount.seconds(10)

    /// The subject CN of the client's verified certificate, asked for on the event loop at CONNECT.
    typealias PeerIdentity = () -> String?
    /// Set on listeners with `use_identity_as_username`: the user name is the certificate's CN.
    let peerIdentity: PeerIdentity?

    init(broker: MQTTBroker, listener: String, logger: Logger, peerIdentity: PeerIdentity? = nil) {
        self.broker = broker
        self.listener = listener
        self.logger = ConnectionLog(base: logger)
        self.peerIdentity = peerIdentity
        let limits = broker.config.flowControl
        if limits.maxPublishRate > 0 || limits.maxPublishBytesRate > 0 {
            publishRate = PublishRate(
                limiter: PublishRateLimiter(
                    messagesPerSecond: limits.maxPublishRate,
                    bytesPerSecond: limits.maxPublishBytesRate,
                    now: 0  // event-loop time, like keep alive; the buckets start full either way
                ))
        }
    }

    // MARK: Channel events

    /// On a WebSocket listener the handler joins a connection that is already active.
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    /// Counts the connection and starts the CONNECT timeout, once.
    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        broker.statistics.connectionsOpen.add(1, ordering: .relaxed)
        logger.peer = context.channel.remoteAddress
        lastActivity = context.eventLoop.now
        let deadlines = broker.connectionDeadlines.deadlines(on: context.eventLoop)
        self.deadlines = deadlines
        deadlineContext = context
        deadlines.set(self, deadline: lastActivity + Self.connectTimeout)
    }

    /// The connection's deadline came (see ``ConnectionDeadlines``): closes it if the client
    /// sent no CONNECT in time or kept silent past its keep alive; otherwise returns when to
    /// look again, nil for never.
    func deadlineReached(now: NIODeadline) -> NIODeadline? {
        guard let context = deadlineContext, !closing else { return nil }
        switch state {
        case .awaitingConnect:
            let deadline = lastActivity + Self.connectTimeout
            guard now >= deadline else { return deadline }
            logger.info("closing connection that sent no CONNECT in time")
            closing = true
            context.channel.close(promise: nil)
            return nil
        case .connected:
            return checkKeepAlive(now: now, context: context)
        case .closed:
            return nil
        }
    }

    /// Takes the connection's deadline out of the event loop's.
    private func dropDeadline() {
        deadlines?.remove(self)
        deadlineContext = nil
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        dropDeadline()
    }

    func channelInactive(context: ChannelHandlerContext) {
        dropDeadline()
        guard started else {
            context.fireChannelInactive()
            return
        }
        publishRate?.timer?.cancel()
        broker.statistics.connectionsOpen.subtract(1, ordering: .relaxed)
        releaseSession()
        inbound = nil
        context.fireChannelInactive()
    }

    /// Lets go of the session once: when wharfd decides to close (so that a client reconnecting
    /// at once finds the session already released), or when the peer goes away.
    func releaseSession() {
        guard case .connected(let session, let generation) = state else { return }
        state = .closed
        broker.statistics.clientDisconnected()
        broker.release(session, generation: generation, will: will, willDelay: willDelay)
        logger.debug("client disconnected")
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        counters.bytes += bytes.readableBytes
        if closing { return }
        if keepAliveTimeout != nil { lastActivity = context.eventLoop.now }
        if var buffered = inbound, buffered.readableBytes > 0 {
            inbound = nil
            // Only the unhandled tail is kept: without this, a stream that never ends on a packet
            // boundary would grow one buffer by everything the client ever sent.
            buffered.discardReadBytes()
            buffered.writeBuffer(&bytes)
            inbound = buffered
            handleInbound(context: context)
            return
        }
        inbound = bytes
        handleInbound(context: context)
        if var rest = inbound {
            // The start of a packet the read cut off (or packets a pause left unhandled) is copied
            // out of NIO's receive buffer: NIO reuses that buffer for the next read only when
            // nothing else holds it, and otherwise keeps one more for the life of the connection.
            var copy = context.channel.allocator.buffer(capacity: rest.readableBytes)
            copy.writeBuffer(&rest)
            inbound = copy
        }
    }

    /// Decodes and handles the packets read so far, until the gate closes or the bytes run out.
    func handleInbound(context: ChannelHandlerContext) {
        guard !handlingInbound else { return }
        handlingInbound = true
        defer { handlingInbound = false }
        while readGate.isOpen, var buffer = inbound {
            let packet: MQTTPacket?
            do {
                packet = try MQTTPacket.decode(
                    from: &buffer,
                    version: version,
                    maxPacketSize: broker.maximumPacketSize
                )
            } catch {
                inbound = nil
                violation(error.reasonCode, error.message, context: context)
                return
            }
            inbound = buffer
            guard let packet else { break }
            counters.packets += 1
            handle(packet, context: context)
            if closing {
                inbound = nil
                return
            }
        }
        if let buffer = inbound, buffer.readableBytes == 0 {
            inbound = nil
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushOutbound(context: context)
        publishCounters()
        context.fireChannelReadComplete()
    }

    /// Adds what this connection counted since the last call to the broker's statistics.
    func publishCounters() {
        let statistics = broker.statistics
        if counters.packets > 0 { statistics.packetsReceived.add(counters.packets, ordering: .relaxed) }
        if counters.bytes > 0 { statistics.bytesReceived.add(counters.bytes, ordering: .relaxed) }
        if counters.publishes > 0 {
            statistics.publishReceived.add(counters.publishes, ordering: .relaxed)
            statistics.publishBytesReceived.add(counters.publishBytes, ordering: .relaxed)
        }
        counters = (0, 0, 0, 0)
    }

    /// Starts keep-alive supervision: the connection is closed when no packet arrives within
    /// 1.5 times the keep alive (MQTT §3.1.2.10). Time comes from the event loop, so tests
    /// drive it with an embedded loop.
    func startKeepAlive(seconds: Int, context: ChannelHandlerContext) {
        guard seconds > 0 else {
            dropDeadline()
            return
        }
        let timeout = TimeAmount.milliseconds(Int64(seconds) * 1500)
        keepAliveTimeout = timeout
        lastActivity = context.eventLoop.now
        deadlines?.set(self, deadline: lastActivity + timeout)
    }

    /// Closes the connection if its keep alive expired; otherwise returns when it will.
    private func checkKeepAlive(now: NIODeadline, context: ChannelHandlerContext) -> NIODeadline? {
        guard let timeout = keepAliveTimeout else { return nil }
        if !readGate.isOpen && !readGate.isPaused(onlyFor: .slowReader) {
            // Wharf is not reading from the client, so its silence proves nothing. A client that
            // reads nothing itself gets no PINGRESP either, and may still expire.
            lastActivity = now
        }
        let deadline = lastActivity + timeout
        guard now >= deadline else { return deadline }
        logger.info("keep alive expired; closing connection")
        violation(.keepAliveTimeout, "no packet within 1.5 times the keep alive", context: context)
        return nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error: \(error)")
        closing = true
        context.close(promise: nil)
    }

    // MARK: Dispatch

    private func handle(_ packet: MQTTPacket, context: ChannelHandlerContext) {
        guard case .connected(let session, _) = state else {
            if case .connect(let connect) = packet {
                handleConnect(connect, context: context)
            } else {
                violation(.protocolError, "the first packet must be CONNECT", context: context)
            }
            return
        }
        switch packet {
        case .publish(let publish):
            counters.publishes += 1
            counters.publishBytes += publish.payload.readableBytes
            handlePublish(publish, session: session, context: context)
            chargePublishRate(payloadBytes: publish.payload.readableBytes, context: context)
        case .pubAck(let ack):
            let now = broker.clock.now()
            acknowledged(.pubAck, ack.packetIdentifier, session: session, context: context) {
                $0.pubAck(ack.packetIdentifier, now: now)
            }
        case .pubRec(let rec):
            let now = broker.clock.now()
            acknowledged(.pubRec, rec.packetIdentifier, session: session, context: context) {
                $0.pubRec(rec.packetIdentifier, reasonCode: rec.reasonCode, now: now)
            }
        case .pubRel(let rel):
            let known = session.releaseInbound(rel.packetIdentifier)
            send(
                .pubComp(
                    PubAckPacket(
                        packetIdentifier: rel.packetIdentifier, reasonCode: known ? .success : .packetIdentifierNotFound
                    )),
                context: context
            )
        case .pubComp(let comp):
            let now = broker.clock.now()
            acknowledged(.pubComp, comp.packetIdentifier, session: session, context: context) {
                $0.pubComp(comp.packetIdentifier, now: now)
            }
        case .subscribe(let subscribe):
            handleSubscribe(subscribe, session: session, context: context)
        case .unsubscribe(let unsubscribe):
            handleUnsubscribe(unsubscribe, session: session, context: context)
        case .pingReq:
            send(.pingResp, context: context)
        case .disconnect(let disconnect):
            handleDisconnect(disconnect, session: session, context: context)
        case .connect:
            violation(.protocolError, "second CONNECT on one connection", context: context)
        case .auth:
            violation(.protocolError, "AUTH without an authentication method", context: context)
        case .connAck, .subAck, .unsubAck, .pingResp:
            violation(.protocolError, "server-to-client packet sent by a client", context: context)
        }
    }

    /// Applies a PUBACK, PUBREC or PUBCOMP to the session. One for an identifier not in flight
    /// is what recovery sends and is let be (a PUBREC still gets its PUBREL, with 0x92 Packet
    /// Identifier not found in MQTT 5); one of the wrong type for its flow closes the connection.
    private func acknowledged(
        _ type: MQTTPacketType,
        _ identifier: UInt16,
        session: Session,
        context: ChannelHandlerContext,
        _ apply: (inout SessionState) -> SessionState.AckOutcome
    ) {
        var outcome = SessionState.AckOutcome.unknownIdentifier
        session.perform { core in
            outcome = apply(&core.state)
            guard case .applied(let actions) = outcome else { return [] }
            return actions
        }
        switch outcome {
        case .applied:
            break
        case .unknownIdentifier:
            guard type == .pubRec else { return }
            let reason: ReasonCode = version == .v5 ? .packetIdentifierNotFound : .success
            send(.pubRel(PubAckPacket(packetIdentifier: identifier, reasonCode: reason)), context: context)
        case .unexpected(let phase):
            violation(
                .protocolError, "\(type) for packet identifier \(identifier), whose delivery awaits \(phase)",
                context: context)
        }
    }

    // MARK: Output

    /// Queues a packet for this connection; written at the end of the read batch.
    func send(_ packet: MQTTPacket, context: ChannelHandlerContext) {
        guard let packet = packet.fitted(toMaximumSize: clientMaximumPacketSize, version: version) else {
            dropUnsendable(packet, context: context)
            return
        }
        if outbound == nil {
            outbound = context.channel.allocator.buffer(capacity: 64)
        }
        do {
            try packet.encode(into: &outbound!, version: version)
            broker.statistics.packetsSent.add(1, ordering: .relaxed)
        } catch {
            logger.warning("cannot encode \(packet): \(error)")
        }
    }

    func flushOutbound(context: ChannelHandlerContext) {
        guard let buffer = outbound, buffer.readableBytes > 0 else { return }
        outbound = nil
        broker.statistics.bytesSent.add(buffer.readableBytes, ordering: .relaxed)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    /// Ends the connection for a protocol violation: MQTT 5 clients get DISCONNECT with the
    /// reason first (MQTT 5 §4.13); the will is published as for any abnormal end.
    func violation(_ reason: ReasonCode, _ message: String, context: ChannelHandlerContext) {
        broker.statistics.protocolErrors.add(1, ordering: .relaxed)
        logger.info("closing connection: \(message)", metadata: ["mqtt.reason_code": "\(reason.rawValue)"])
        switch state {
        case .connected where version == .v5:
            var properties = MQTTProperties()
            if requestProblemInformation { properties.reasonString = message }
            send(.disconnect(DisconnectPacket(reasonCode: reason, properties: properties)), context: context)
        case .awaitingConnect where reason == .unsupportedProtocolVersion:
            // The client's level is unknown, so answer in the 3.1.1 form every version reads
            // (MQTT 3.1.1 §3.1.2.2: return code 1, unacceptable protocol version).
            send(.connAck(ConnAckPacket(sessionPresent: false, reasonCode: 1)), context: context)
        default:
            break
        }
        close(context: context)
    }

    /// Writes what is queued and closes; the session is released in `channelInactive`.
    func close(context: ChannelHandlerContext) {
        flushOutbound(context: context)
        closing = true
        releaseSession()
        context.close(promise: nil)
    }
}
