import NIOCore

/// UNSUBSCRIBE: a client's request to remove subscriptions.
public struct UnsubscribePacket: Sendable, Hashable {
    /// The packet identifier echoed in UNSUBACK.
    public var packetIdentifier: UInt16
    /// The topic filters to remove, at least one.
    public var topicFilters: [String]
    /// MQTT 5 properties (user properties).
    public var properties: MQTTProperties

    /// Creates an UNSUBSCRIBE packet.
    public init(packetIdentifier: UInt16, topicFilters: [String], properties: MQTTProperties = MQTTProperties()) {
        self.packetIdentifier = packetIdentifier
        self.topicFilters = topicFilters
        self.properties = properties
    }
}

extension UnsubscribePacket {
    static func decode(body: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTDecodeError)
        -> UnsubscribePacket
    {
        let packetIdentifier = try body.readMQTTPacketIdentifier()
        let properties = version == .v5 ? try MQTTProperties.decode(from: &body, in: .unsubscribe) : MQTTProperties()
        var topicFilters: [String] = []
        while body.readableBytes > 0 {
            topicFilters.append(try body.readMQTTString("topic filter"))
        }
        if topicFilters.isEmpty { throw .protocolError("UNSUBSCRIBE has no topic filter") }
        return UnsubscribePacket(packetIdentifier: packetIdentifier, topicFilters: topicFilters, properties: properties)
    }

    func remainingLength(version: MQTTProtocolVersion) -> Int {
        var size = 2
        if version == .v5 { size += properties.encodedSize }
        for filter in topicFilters { size += stringFieldSize(filter) }
        return size
    }

    func writeBody(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        buffer.writeInteger(packetIdentifier)
        if version == .v5 { try properties.write(into: &buffer) }
        for filter in topicFilters { try buffer.writeMQTTString(filter, "topic filter") }
    }
}
