/// The first Block2 block of a notification too large for one datagram (RFC 7959 §2.6); no I/O.
struct NotificationBlock: Equatable {
    /// Bytes of payload in the block: a power of two from 16 to 1024.
    var size: Int

    /// The block to send, or `nil` when the whole payload fits a PDU of `maxPDUSize` bytes.
    init?(payloadSize: Int, maxPDUSize: Int) {
        // Header, token and the options of a notification take at most about 64 bytes.
        let room = maxPDUSize - 64
        guard payloadSize > room else { return nil }
        var size = 1024
        while size > 16 && size > room { size /= 2 }
        self.size = size
    }

    /// The Block2 option value of block 0 with more blocks to come: `NUM=0, M=1, SZX`.
    var optionValue: UInt32 {
        let szx = UInt32(size.trailingZeroBitCount - 4)
        return 1 << 3 | szx
    }
}
