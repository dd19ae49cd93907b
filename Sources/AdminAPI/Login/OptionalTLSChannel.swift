import HummingbirdCore
import Logging
import NIOCore
import NIOSSL

/// The admin listener with `admin.tls`: a connection that starts with a TLS handshake record gets
/// TLS, any other stays plain HTTP (which ``AdminAccess`` serves to trusted peers on this machine
/// only). One port serves browsers over HTTPS and `wharfctl` on the box over plain HTTP.
struct OptionalTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let context: NIOSSLContext

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(TLSSniffer(context: context))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension OptionalTLSChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { base.responder }
}

/// Looks at the first byte a client sends: 0x16 (a TLS handshake record) puts a TLS server
/// handler after it; then it removes itself and passes the bytes on.
final class TLSSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let context: NIOSSLContext
    private var decided = false

    init(context: NIOSSLContext) {
        self.context = context
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !decided else {
            context.fireChannelRead(data)
            return
        }
        decided = true
        let buffer = unwrapInboundIn(data)
        if buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) == 0x16 {
            do {
                try context.pipeline.syncOperations.addHandler(
                    NIOSSLServerHandler(context: self.context), position: .after(self))
            } catch {
                context.fireErrorCaught(error)
                context.close(promise: nil)
                return
            }
        }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

extension AdminServer {
    /// Whether the connection of `channel` took TLS.
    static func isTLS(_ channel: any Channel) async -> Bool {
        (try? await channel.pipeline.handler(type: NIOSSLServerHandler.self).get()) != nil
    }
}
