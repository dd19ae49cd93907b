import MQTTCodec
import NIOCore
import WharfCore

extension InflightWindow {
    /// The PUBLISH for a record on this link, or why the record cannot be sent: expired (dropped), or
    /// beyond what the link's endpoint takes (dead-lettered, `refusal(for:link:)` and `tooLarge`).
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
    ) -> Result<PublishPacket, Unsendable> {
        var properties = item.properties
        if let expiresAt = item.expiresAt {
            guard expiresAt > now else { return .failure(.drop(.expired)) }
            // Rounded up: a message with 1 ms left still has a lifetime, and 0 would mean "no expiry".
            let remaining = (expiresAt - now + 999) / 1000
            properties.messageExpiryInterval = UInt32(clamping: remaining)
        }
        if let refusal = refusal(for: item, link: link) { return .failure(.deadLetter(refusal)) }
        let packet = PublishPacket(
            topic: item.topic,
            payload: item.payload,
            qos: identifier == nil ? .atMostOnce : max(.atLeastOnce, qos),
            retain: item.retain && link.retainAvailable,
            dup: dup && identifier != nil,
            packetIdentifier: identifier,
            properties: link.version == .v5 ? MQTTProperties(properties) : MQTTProperties()
        )
        let size = MQTTPacket.publish(packet).encodedSize(version: link.version)
        if size > link.maximumPacketSize { return .failure(.deadLetter(tooLarge(size: size, link: link))) }
        return .success(packet)
    }
}
