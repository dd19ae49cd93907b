import Logging
import MQTTCodec
import NIOCore

/// The client's MQTT 5 Maximum Packet Size applied to what the handler sends: MQTT 5
/// §3.1.2.11.4 forbids sending a larger packet [MQTT-3.1.2-24]. `send` leaves out the Reason
/// String and User Properties where that makes a packet fit; what does not fit even then is
/// never sent. What the session writes itself is covered too: its PUBLISH packets are checked
/// there (and dropped, as the specification says), and its PUBREL (4 bytes) and the DISCONNECT
/// of a takeover or shutdown (3 bytes) are smaller than any accepting CONNACK (8 bytes or more,
/// Topic Alias Maximum is always in it), which the client had to take first.
extension MQTTConnectionHandler {
    /// Ends the connection without writing `packet`, which the client's limit does not admit:
    /// the exchange it belonged to cannot complete. Anything queued before it is still written.
    func dropUnsendable(_ packet: MQTTPacket, context: ChannelHandlerContext) {
        broker.statistics.recordLimitHit(.clientMaximumPacketSize)
        logger.info(
            "closing connection: the \(packet.packetType) would exceed the client's Maximum Packet Size",
            metadata: [
                "mqtt.packet_size": "\(packet.encodedSize(version: version))",
                "mqtt.client_maximum_packet_size": "\(clientMaximumPacketSize)",
            ]
        )
        close(context: context)
    }

    /// Whether the CONNACK accepting this client fits its limit. When it does not, the client is
    /// not connected at all: no session is claimed or taken over and no will is kept. Session
    /// Present does not change the size, so this is decided before the session is claimed.
    func connAckFits(_ connAck: ConnAckPacket, context: ChannelHandlerContext) -> Bool {
        guard MQTTPacket.connAck(connAck).fitted(toMaximumSize: clientMaximumPacketSize, version: version) == nil
        else { return true }
        will = nil
        dropUnsendable(.connAck(connAck), context: context)
        return false
    }

    /// Whether `answer`, a SUBACK or UNSUBACK with one reason code per filter of the request,
    /// fits the client's limit. When it does not, nothing of the request is applied (the client
    /// would never learn what was) and the connection ends with DISCONNECT 0x95 (Packet too large).
    func answerFits(_ answer: MQTTPacket, context: ChannelHandlerContext) -> Bool {
        guard answer.fitted(toMaximumSize: clientMaximumPacketSize, version: version) == nil else { return true }
        broker.statistics.recordLimitHit(.clientMaximumPacketSize)
        violation(
            .packetTooLarge,
            "the \(answer.packetType) of \(answer.encodedSize(version: version)) bytes would exceed "
                + "the Maximum Packet Size of \(clientMaximumPacketSize) bytes",
            context: context
        )
        return false
    }
}
