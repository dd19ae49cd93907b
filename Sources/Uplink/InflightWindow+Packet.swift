import MQTTCodec
import NIOCore
import WharfCore

extension InflightWindow {
    /// The PUBLISH for a record on this link, or why the record cannot be sent.
    ///
    /// `qos` is the one chosen for this link (the record's, lowered to what the server grants); a
    /// record without `identifier` goes at QoS 0. `now` is wall-clock milliseconds.
    static func packet(
        for item: UplinkItem,
        qos: QoS,
        identifier: UInt16?,
        dup: Bool,
        link: LinkParameters,
        now: Int64
    ) -> Result<PublishPacket, DropReason> {
        var properties = item.properties
        if let expiresAt = item.expiresAt {
            guard expiresAt > now else { return .failure(.expired) }
            // Rounded up: a message with 1 ms left still has a lifetime, and 0 would mean "no expiry".
            let remaining = (expiresAt - now + 999) / 1000
            properties.messageExpiryInterval = UInt32(clamping: remaining)
        }
        if Topic.validateName(item.topic) != nil { return .failure(.invalidTopic) }
        let packet = PublishPacket(
            topic: item.topic,
            payload: item.payload,
            qos: identifier == nil ? .atMostOnce : max(.atLeastOnce, qos),
            retain: item.retain && link.retainAvailable,
            dup: dup && identifier != nil,
            packetIdentifier: identifier,
            properties: link.version == .v5 ? MQTTProperties(properties) : MQTTProperties()
        )
        if MQTTPacket.publish(packet).encodedSize(version: link.version) > link.maximumPacketSize {
            return .failure(.tooLarge)
        }
        return .success(packet)
    }
}
