import MQTTCodec
import NIOCore
import WharfCore

/// One client of the loopback broker.
final class LoopbackConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let router: LoopbackRouter
    private var context: ChannelHandlerContext?
    private var framer = InboundFramer()
    private var version = MQTTProtocolVersion.v5
    /// Output gathered during a read, written once at its end.
    private var pending = ByteBuffer()
    private var isDirty = false

    /// Creates a connection that routes through `router`.
    init(router: LoopbackRouter) {
        self.router = router
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        pending = context.channel.allocator.buffer(capacity: 16384)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        router.remove(self)
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        framer.append(Self.unwrapInboundIn(data))
        do {
            while let (packet, bytes) = try framer.nextWithBytes(version: version) {
                switch packet {
                case .publish(let publish):
                    if let identifier = publish.packetIdentifier {
                        pending.writeInteger(UInt32(0x4002_0000) | UInt32(identifier))
                        markDirty()
                    }
                    for subscriber in router.subscribers(of: publish.topic) {
                        subscriber.enqueue(bytes)
                    }
                case .connect(let connect):
                    version = connect.protocolVersion
                    try MQTTPacket.connAck(ConnAckPacket()).encode(into: &pending, version: version)
                    markDirty()
                case .subscribe(let subscribe):
                    for entry in subscribe.subscriptions { router.subscribe(self, filter: entry.topicFilter) }
                    let codes = subscribe.subscriptions.map(\.options.qos.rawValue)
                    let ack = SubAckPacket(packetIdentifier: subscribe.packetIdentifier, reasonCodes: codes)
                    try MQTTPacket.subAck(ack).encode(into: &pending, version: version)
                    markDirty()
                case .pingReq:
                    try MQTTPacket.pingResp.encode(into: &pending, version: version)
                    markDirty()
                case .disconnect:
                    context.close(promise: nil)
                    return
                default:
                    break  // PUBACKs from subscribers: nothing is tracked.
                }
            }
        } catch {
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        router.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Appends a forwarded packet to this connection's output.
    @inline(__always)
    func enqueue(_ bytes: ByteBuffer) {
        pending.writeImmutableBuffer(bytes)
        markDirty()
    }

    /// Writes the gathered output.
    func flush() {
        isDirty = false
        guard let context, pending.readableBytes > 0 else { return }
        let capacity = max(pending.capacity, 16384)
        context.writeAndFlush(Self.wrapOutboundOut(pending), promise: nil)
        pending = context.channel.allocator.buffer(capacity: capacity)
    }

    private func markDirty() {
        guard !isDirty else { return }
        isDirty = true
        router.markDirty(self)
    }
}
