import MQTTCodec
import NIOCore

/// Asks the publish handler to send what the window and the read-ahead allow.
struct UplinkPumpEvent: Sendable {}

/// What the cloud broker answered to one of the uplink's publishes.
enum PublishAnswer: Sendable {
    /// PUBACK (QoS 1).
    case pubAck(PubAckPacket)
    /// PUBREC (QoS 2, first answer).
    case pubRec(PubAckPacket)
    /// PUBCOMP (QoS 2, the end of the flow).
    case pubComp(PubAckPacket)
}

/// The uplink's fast path on the event loop: takes PUBACKs (and PUBRECs and PUBCOMPs) off the inbound
/// stream and answers each read burst with the next publishes at once, so that a small server window
/// (Mosquitto's Receive Maximum is 20) refills without a round trip through the service's tasks.
final class UplinkPublishHandler: ChannelInboundHandler {
    typealias InboundIn = MQTTPacket
    typealias InboundOut = MQTTPacket
    typealias OutboundOut = ByteBuffer

    private let service: UplinkService
    private var acknowledgements: [PublishAnswer] = []

    init(service: UplinkService) {
        self.service = service
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .pubAck(let ack): acknowledgements.append(.pubAck(ack))
        case .pubRec(let received): acknowledgements.append(.pubRec(received))
        case .pubComp(let completed): acknowledgements.append(.pubComp(completed))
        default: context.fireChannelRead(data)
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
