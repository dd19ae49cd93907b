import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
import WharfConfig

extension BrokerService {
    /// Names of the handlers that serve a WebSocket connection only until the upgrade.
    private static let refusalName = "wharf.websocket-refusal"
    private static let deadlineName = "wharf.websocket-deadline"

    /// Sets up a `websocket` listener's connection: HTTP until the client asks to upgrade with
    /// the `mqtt` subprotocol, then WebSocket frames carrying MQTT to an ``MQTTConnectionHandler``.
    /// A request that is not such an upgrade gets 400 and is closed; so is a connection that has
    /// not upgraded within the CONNECT timeout (after which the MQTT handler's own one runs).
    static func addWebSocketUpgrade(
        channel: any Channel,
        broker: MQTTBroker,
        listener: ListenerConfig,
        logger: Logger,
        peerIdentity: @escaping @Sendable (any Channel) -> MQTTConnectionHandler.PeerIdentity?
    ) throws {
        let name = listener.name
        // A frame may hold a whole packet of the largest size allowed, plus its header.
        let maxFrameSize = min(broker.maximumPacketSize + 8, Int(UInt32.max))
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: max(maxFrameSize, 1 << 14),
            automaticErrorHandling: true,
            shouldUpgrade: { channel, head in
                let offered = head.headers["Sec-WebSocket-Protocol"]
                guard let chosen = WebSocketFraming.subprotocol(offered: offered) else {
                    return channel.eventLoop.makeSucceededFuture(nil)
                }
                return channel.eventLoop.makeSucceededFuture(HTTPHeaders([("Sec-WebSocket-Protocol", chosen)]))
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    let refusal = try sync.context(name: refusalName)
                    sync.removeHandler(context: refusal, promise: nil)
                    let deadline = try sync.context(name: deadlineName)
                    sync.removeHandler(context: deadline, promise: nil)
                    try sync.addHandler(WebSocketMQTTHandler())
                    try sync.addHandler(
                        MQTTConnectionHandler(
                            broker: broker, listener: name, logger: logger, peerIdentity: peerIdentity(channel)))
                }
            }
        )
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(
            ConnectDeadline(timeout: MQTTConnectionHandler.connectTimeout, logger: logger), name: deadlineName)
        try sync.configureHTTPServerPipeline(withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
        try sync.addHandler(WebSocketRefusal(), name: refusalName)
    }
}

/// Answers an HTTP request on a WebSocket listener that is not an MQTT upgrade with 400, and closes.
final class WebSocketRefusal: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head = unwrapInboundIn(data), !answered else { return }
        answered = true
        let text = "This port serves MQTT over WebSocket: upgrade with Sec-WebSocket-Protocol: mqtt.\n"
        var body = context.channel.allocator.buffer(capacity: text.utf8.count)
        body.writeString(text)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: "\(body.readableBytes)")
        headers.add(name: "Connection", value: "close")
        let head = HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

/// Closes a connection that is still in its handshake (TLS or the WebSocket upgrade) when the
/// time a new connection has to send CONNECT is up; removed once the handshake is done.
final class ConnectDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let timeout: TimeAmount
    private let logger: Logger
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    private func start(context: ChannelHandlerContext) {
        guard timer == nil else { return }
        let channel = context.channel
        let logger = self.logger
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            logger.info(
                "closing connection that did not finish its WebSocket upgrade in time",
                metadata: ["mqtt.peer": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
            channel.close(promise: nil)
        }
    }
}
