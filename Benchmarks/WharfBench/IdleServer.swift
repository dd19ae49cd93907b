import MQTTCodec
import NIOCore
import NIOPosix

/// `--idle-server`: the least an MQTT server on SwiftNIO can hold per idle connection.
///
/// It accepts connections on as many event loops as wharfd runs, answers CONNECT with CONNACK
/// and PINGREQ with PINGRESP, and keeps nothing else: no session, no timers, no logger. Its
/// memory per connection is NIO's own (the channel, its pipeline, its pending-writes queue and the
/// receive buffer it keeps between reads), the floor under any broker built on NIO; the
/// connection-memory benchmark measures it next to wharfd (docs/benchmarks.md).
struct IdleServer {
    var host: String
    var port: Int
    /// The receive buffer's first size, in bytes; nil keeps NIO's default (2048).
    var receiveBuffer: Int?

    /// Serves until the process is stopped.
    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        var bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
        if let receiveBuffer {
            bootstrap = bootstrap.childChannelOption(
                .recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(
                    minimum: min(64, receiveBuffer), initial: receiveBuffer, maximum: max(65536, receiveBuffer))
            )
        }
        let server =
            try await bootstrap
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleResponder())
                }
            }
            .bind(host: host, port: port)
            .get()
        print("idle server on \(server.localAddress.map { "\($0)" } ?? "?")")
        try await server.closeFuture.get()
    }
}

/// Answers CONNECT and PINGREQ; keeps only the protocol version and, between two reads, the
/// start of a packet the first one cut off.
final class IdleResponder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var version = MQTTProtocolVersion.v311
    private var partial: ByteBuffer?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if var partial {
            partial.writeBuffer(&bytes)
            bytes = partial
            self.partial = nil
        }
        var answer: ByteBuffer?
        do {
            while let packet = try MQTTPacket.decode(from: &bytes, version: version, maxPacketSize: 65536) {
                let reply: MQTTPacket
                switch packet {
                case .connect(let connect):
                    version = connect.protocolVersion
                    reply = .connAck(ConnAckPacket())
                case .pingReq:
                    reply = .pingResp
                case .disconnect:
                    context.close(promise: nil)
                    return
                default:
                    continue
                }
                var buffer = answer ?? context.channel.allocator.buffer(capacity: 8)
                try reply.encode(into: &buffer, version: version)
                answer = buffer
            }
        } catch {
            context.close(promise: nil)
            return
        }
        if bytes.readableBytes > 0 { partial = bytes }
        if let answer { context.writeAndFlush(wrapOutboundOut(answer), promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
