import MQTTCodec
import NIOCore

/// Packets a session staged for the next flush, with an estimate of their size on the wire, so
/// that what waits for a slow client is bounded in bytes.
struct StagedPackets: Sendable {
    private(set) var packets: [MQTTPacket] = []
    /// Estimated encoded bytes of `packets`.
    private(set) var bytes = 0

    var isEmpty: Bool { packets.isEmpty }

    mutating func append(_ packet: MQTTPacket, size: Int) {
        packets.append(packet)
        bytes += size
    }

    /// Puts packets taken by a flush that could not write them back in front.
    mutating func putBack(_ taken: [MQTTPacket]) {
        packets.insert(contentsOf: taken, at: 0)
        bytes += taken.reduce(0) { $0 + Self.estimatedSize(of: $1) }
    }

    /// Takes every packet for writing.
    mutating func take() -> [MQTTPacket] {
        defer { removeAll(keepingCapacity: true) }
        return packets
    }

    mutating func removeAll(keepingCapacity: Bool = false) {
        packets.removeAll(keepingCapacity: keepingCapacity)
        bytes = 0
    }

    /// Payload and topic plus a header's worth; exact enough for a bound, and free of encoding.
    static func estimatedSize(of packet: PublishPacket) -> Int {
        packet.payload.readableBytes + packet.topic.utf8.count + 16
    }

    static func estimatedSize(of packet: MQTTPacket) -> Int {
        if case .publish(let publish) = packet { return estimatedSize(of: publish) }
        return 4
    }
}
