import MQTTCodec
import NIOCore
import WharfCore

/// One publisher's PUBLISH packet, encoded once by the codec; each send copies it and patches
/// the packet identifier and the payload stamp in place.
struct PublishTemplate: Sendable {
    /// The whole encoded packet.
    private let bytes: [UInt8]
    /// Where the packet identifier sits, or nil for QoS 0.
    private let identifierOffset: Int?
    /// Where the payload (and so the stamp) starts.
    private let payloadOffset: Int

    /// Size of one encoded packet.
    var packetSize: Int { bytes.count }

    /// Encodes the template and checks, by decoding it again, that the patch offsets are right.
    init(topic: String, publisher: Int, payloadSize: Int, qos: QoS, version: MQTTProtocolVersion) throws {
        var payload = ByteBuffer()
        payload.writeRepeatingByte(0, count: PayloadStamp.size)
        // Filler that does not compress to nothing, should anything on the path try.
        for index in PayloadStamp.size..<payloadSize { payload.writeInteger(UInt8(truncatingIfNeeded: index &* 31)) }
        let packet = PublishPacket(
            topic: topic,
            payload: payload,
            qos: qos,
            packetIdentifier: qos == .atMostOnce ? nil : 0x1234
        )
        var buffer = ByteBuffer()
        try packet.encode(into: &buffer, version: version)
        var header = ByteBuffer()
        try packet.encodeHeader(into: &header, version: version)
        bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        payloadOffset = header.readableBytes
        let propertiesLength = version == .v5 ? 1 : 0
        identifierOffset = qos == .atMostOnce ? nil : payloadOffset - propertiesLength - 2

        var check = ByteBuffer(bytes: bytes)
        check.setInteger(UInt32(publisher), at: payloadOffset)
        if let identifierOffset { check.setInteger(UInt16(0x4321), at: identifierOffset) }
        let decoded = try MQTTPacket.decode(from: &check, version: version, maxPacketSize: .max)
        guard case .publish(let publish) = decoded, publish.topic == topic,
            publish.packetIdentifier == (qos == .atMostOnce ? nil : 0x4321),
            publish.payload.getInteger(at: publish.payload.readerIndex, as: UInt32.self) == UInt32(publisher)
        else {
            throw BenchError("PUBLISH template for \(topic) does not decode as expected")
        }
    }

    /// Appends `count` packets numbered from `firstSequence`, stamped with `publisher` and `sentAt`.
    ///
    /// `nextIdentifier` is called once per packet for QoS 1 and 2.
    @inline(__always)
    func write(
        into buffer: inout ByteBuffer,
        count: Int,
        publisher: Int,
        firstSequence: Int,
        sentAt: UInt64,
        nextIdentifier: () -> UInt16
    ) {
        let size = bytes.count
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size * count) { out in
            bytes.withUnsafeBytes { template in
                guard let source = template.baseAddress, let base = out.baseAddress else { return 0 }
                for index in 0..<count {
                    let packet = base + index * size
                    packet.copyMemory(from: source, byteCount: size)
                    if let identifierOffset {
                        packet.storeBytes(
                            of: nextIdentifier().bigEndian, toByteOffset: identifierOffset, as: UInt16.self)
                    }
                    let stamp = packet + payloadOffset
                    stamp.storeBytes(of: UInt32(truncatingIfNeeded: publisher).bigEndian, as: UInt32.self)
                    stamp.storeBytes(
                        of: UInt32(truncatingIfNeeded: firstSequence + index).bigEndian,
                        toByteOffset: 4,
                        as: UInt32.self
                    )
                    stamp.storeBytes(of: sentAt.bigEndian, toByteOffset: 8, as: UInt64.self)
                }
                return size * count
            }
        }
    }
}
