public import NIOCore
import WharfCore

extension PublishPacket {
    /// Appends the packet's bytes, as `MQTTPacket.publish(self).encode(into:version:)` does.
    public func encode(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        try encodeHeader(into: &buffer, version: version)
        buffer.writeImmutableBuffer(payload)
    }

    /// Writes the packet without its payload, which the caller sends next as its own buffer.
    ///
    /// Lets a server fan one payload out to many subscribers with vectored writes instead of
    /// copying it into every packet. The bytes written plus `payload` equal what `encode` writes.
    public func encodeHeader(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        let remainingLength = remainingLength(version: version)
        guard remainingLength <= MQTTPacket.maximumRemainingLength else {
            throw MQTTEncodeError(message: "PUBLISH remaining length \(remainingLength) exceeds 268435455")
        }
        let topicLength = topic.utf8.count
        guard topicLength <= mqttMaximumFieldLength else {
            throw MQTTEncodeError(message: "topic name is \(topicLength) bytes; at most 65535 fit")
        }
        var identifier: UInt16 = 0
        if qos != .atMostOnce {
            guard let packetIdentifier else {
                throw MQTTEncodeError(message: "a QoS \(qos.rawValue) PUBLISH needs a packet identifier")
            }
            identifier = packetIdentifier
        }
        let start = buffer.writerIndex
        // Everything up to the properties (and an empty property list) in one write: each
        // ByteBuffer write pays bounds, uniqueness and exclusivity checks.
        let writesProperties = version == .v5 && !properties.isEmpty
        var size = 1 + variableByteIntegerSize(remainingLength) + 2 + topicLength + (qos == .atMostOnce ? 0 : 2)
        if version == .v5 && !writesProperties { size += 1 }
        let written = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
            var writer = RawWriter(out)
            writer.byte(MQTTPacketType.publish.rawValue << 4 | flags)
            writer.variableByteInteger(remainingLength)
            writer.string(topic)
            if qos != .atMostOnce { writer.uint16(identifier) }
            if version == .v5 && !writesProperties { writer.byte(0) }
            return writer.count
        }
        assert(written == size, "PUBLISH header wrote \(written) bytes, expected \(size)")
        guard writesProperties else { return }
        do {
            try properties.write(into: &buffer)
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
    }
}
