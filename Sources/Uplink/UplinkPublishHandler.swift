import MQTTCodec
import NIOCore

/// Asks the publish handler to send what the window and the read-ahead allow.
struct UplinkPumpEvent: Sendable {}

/// The uplink's fast path on the event loop: takes PUBACKs off the inbound stream and answers each
/// read burst with the next publishes at once, so that a small server window (Mosquitto's Receive
/// Maximum is 20) refills without a round trip through the service's tasks.
final class UplinkPublishHandler: ChannelInboundHandler {
    typealias InboundIn = MQTTPacket
    typealias InboundOut = MQTTPacket
    typealias OutboundOut = ByteBuffer

    private let service: UplinkService
    private var acknowledgements: [PubAckPacket] = []

    init(service: UplinkService) {
        self.service = service
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .pubAck(let ack) = unwrapInboundIn(data) {
            acknowledgements.append(ack)
        } else {
            context.fireChannelRead(data)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !acknowledgements.isEmpty {
            service.acknowledge(acknowledgements)
            acknowledgements.removeAll(keepingCapacity: true)
            pump(context: context)
        }
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is UplinkPumpEvent {
            pump(context: context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func pump(context: ChannelHandlerContext) {
        guard let buffer = service.pump(channel: context.channel) else { return }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }
}
