import NIOCore
import NIOWebSocket

/// Sits between the WebSocket frame codec and ``MQTTConnectionHandler`` on `websocket`
/// listeners: binary frames in become the MQTT byte stream, MQTT bytes out become binary
/// frames; pings are answered, a close is acknowledged, and a text frame closes the connection.
/// Flow control passes through: the MQTT handler's `read()` suppression reaches the socket.
final class WebSocketMQTTHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = WebSocketFrame

    /// Set once a close frame was sent: nothing more is read or written.
    private var closing = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let frame = unwrapInboundIn(data)
        switch WebSocketFraming.action(for: frame) {
        case .deliver(let bytes):
            context.fireChannelRead(wrapInboundOut(bytes))
        case .pong(let data):
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: data)), promise: nil)
        case .ignore:
            break
        case .closeAcknowledged:
            sendClose(context: context, data: frame.unmaskedData)
        case .close(let code):
            var data = context.channel.allocator.buffer(capacity: 2)
            data.write(webSocketErrorCode: code)
            sendClose(context: context, data: data)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let bytes = unwrapOutboundIn(data)
        context.write(wrapOutboundOut(WebSocketFraming.frame(carrying: bytes)), promise: promise)
    }

    private func sendClose(context: ChannelHandlerContext, data: ByteBuffer) {
        closing = true
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
        context.writeAndFlush(wrapOutboundOut(frame)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
