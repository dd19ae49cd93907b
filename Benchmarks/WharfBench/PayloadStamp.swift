/// The first 16 bytes of every benchmark payload: who sent it, which one, and when.
///
/// Big-endian: publisher index (UInt32), sequence number (UInt32), send time (UInt64, monotonic
/// nanoseconds of this process). The rest of the payload is filler.
struct PayloadStamp {
    /// Bytes the stamp occupies at the start of the payload.
    static let size = 16

    /// The publisher's index.
    var publisher: Int
    /// The message's sequence number, from 0.
    var sequence: Int
    /// When the message was handed to the socket, in monotonic nanoseconds.
    var sentAt: UInt64

    /// Reads a stamp from the start of `raw`; nil if the payload is too short to carry one.
    @inline(__always)
    static func read(from raw: UnsafeRawBufferPointer) -> PayloadStamp? {
        guard raw.count >= size else { return nil }
        return PayloadStamp(
            publisher: Int(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self))),
            sequence: Int(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self))),
            sentAt: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        )
    }
}
