import MQTTCodec
import NIOCore
import NIOPosix

/// What the run needs from every client connection's handler.
protocol BenchClient: ChannelInboundHandler, SendableMetatype where InboundIn == ByteBuffer, OutboundOut == ByteBuffer {
    /// Completes once the client is connected (and subscribed); fails if the broker refuses.
    var handshake: EventLoopFuture<Void> { get }
    /// Fails the handshake if it has not completed yet.
    func handshakeTimedOut()
    /// Sends DISCONNECT and closes; the connection closing is then expected.
    func disconnect()
}

/// A connected client: its handler, bound to the event loop that owns it.
struct ClientHandle<Handler: BenchClient>: Sendable {
    /// The client's event loop.
    var loop: any EventLoop
    /// The client's connection.
    var channel: any Channel
    /// The handler, usable only on `loop`.
    var handler: NIOLoopBound<Handler>

    /// Connects to `host:port` on `loop` (over TLS with `tls`), installs the handler `make`
    /// creates, and waits for its handshake.
    static func connect(
        host: String,
        port: Int,
        tls: BenchTLS?,
        on loop: any EventLoop,
        make: @escaping @Sendable () -> Handler
    ) async throws -> ClientHandle<Handler> {
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .channelInitializer { channel in
                    guard let tls else { return channel.eventLoop.makeSucceededVoidFuture() }
                    return channel.eventLoop.makeCompletedFuture { try tls.addHandler(to: channel) }
                }
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelOption(
                    .recvAllocator,
                    value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16384, maximum: 1 << 20)
                )
                .connect(host: host, port: port)
                .get()
        } catch {
            throw BenchError("cannot connect to \(host):\(port): \(error)")
        }
        let (handler, handshake) = try await loop.submit {
            let handler = make()
            try channel.pipeline.syncOperations.addHandler(handler)
            return (NIOLoopBound(handler, eventLoop: loop), handler.handshake)
        }.get()
        let timeout = loop.scheduleTask(in: .seconds(10)) { handler.value.handshakeTimedOut() }
        defer { timeout.cancel() }
        try await handshake.get()
        return ClientHandle(loop: loop, channel: channel, handler: handler)
    }

    /// Runs `body` with the handler on its event loop.
    func submit<Result: Sendable>(_ body: @escaping @Sendable (Handler) -> Result) async throws -> Result {
        let handler = handler
        return try await loop.submit { body(handler.value) }.get()
    }
}

extension MQTTPacket {
    /// Encodes the packet into a fresh buffer from `context`'s allocator.
    func encoded(context: ChannelHandlerContext, version: MQTTProtocolVersion) throws -> ByteBuffer {
        var buffer = context.channel.allocator.buffer(capacity: 64)
        try encode(into: &buffer, version: version)
        return buffer
    }
}

/// Whether a CONNACK reports success; the reason otherwise.
func connAckFailure(_ ack: ConnAckPacket) -> String? {
    ack.reasonCode == 0 ? nil : "broker refused the connection (code \(ack.reasonCode))"
}

/// Keep-alive asked of the broker: longer than any run, so that idle subscribers need no PINGREQ.
let benchKeepAlive: UInt16 = 3600
