/// Writes MQTT fields straight into a buffer's reserved bytes, for the hot encoding paths.
///
/// Every ByteBuffer write pays bounds, uniqueness and exclusivity checks; callers reserve the
/// exact size once (`writeWithUnsafeMutableBytes`) and fill it through this instead. A write
/// that would not fit is dropped rather than run past the reservation, so a size miscalculation
/// shows up as a short count (asserted by callers), never as memory corruption.
struct RawWriter {
    private let out: UnsafeMutableRawBufferPointer
    /// Bytes written so far.
    private(set) var count = 0

    init(_ out: UnsafeMutableRawBufferPointer) {
        self.out = out
    }

    @inline(__always)
    mutating func byte(_ value: UInt8) {
        guard count < out.count else { return }
        out[count] = value
        count += 1
    }

    @inline(__always)
    mutating func uint16(_ value: UInt16) {
        guard count + 2 <= out.count else { return }
        out.storeBytes(of: value.bigEndian, toByteOffset: count, as: UInt16.self)
        count += 2
    }

    @inline(__always)
    mutating func uint32(_ value: UInt32) {
        guard count + 4 <= out.count else { return }
        out.storeBytes(of: value.bigEndian, toByteOffset: count, as: UInt32.self)
        count += 4
    }

    @inline(__always)
    mutating func variableByteInteger(_ value: Int) {
        var remaining = value
        repeat {
            byte(UInt8(truncatingIfNeeded: remaining & 0x7F) | (remaining > 0x7F ? 0x80 : 0))
            remaining >>= 7
        } while remaining > 0
    }

    @inline(__always)
    mutating func raw(_ bytes: UnsafeRawBufferPointer) {
        guard count + bytes.count <= out.count, let base = out.baseAddress else { return }
        if let source = bytes.baseAddress { (base + count).copyMemory(from: source, byteCount: bytes.count) }
        count += bytes.count
    }

    /// A UTF-8 Encoded String field; the caller has checked it fits in 65535 bytes.
    @inline(__always)
    mutating func string(_ string: String) {
        let length = string.utf8.count
        uint16(UInt16(truncatingIfNeeded: length))
        let copied: Void? = string.utf8.withContiguousStorageIfAvailable { raw(UnsafeRawBufferPointer($0)) }
        if copied == nil {
            for byte in string.utf8 { self.byte(byte) }
        }
    }

    /// A Binary Data field; the caller has checked it fits in 65535 bytes.
    @inline(__always)
    mutating func binary(_ bytes: [UInt8]) {
        uint16(UInt16(truncatingIfNeeded: bytes.count))
        bytes.withUnsafeBytes { raw($0) }
    }
}
