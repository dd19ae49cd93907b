import NIOCore

/// Cuts a plugin's output into lines (docs/plugins.md, "Framing").
///
/// The framer never keeps more than `maxLineBytes` (plus a possible trailing `\r`) of one line in
/// the caller's buffer: a longer line is dropped as it arrives and reported once, as `.oversized`,
/// when its newline comes, so that a plugin writing an endless line cannot grow the host.
public struct LineFramer: Sendable {
    /// The longest line accepted, in bytes, without `\n` and without a trailing `\r`.
    public let maxLineBytes: Int
    /// Bytes at the front of the buffer already searched for a newline (only appends follow).
    private var scanned = 0
    /// Bytes of the current oversized line dropped so far, or nil when not inside one.
    private var discarded: Int?

    /// Creates a framer accepting lines of at most `maxLineBytes` bytes (at least 1).
    public init(maxLineBytes: Int) {
        self.maxLineBytes = max(1, maxLineBytes)
    }

    /// Whether the framer is dropping the rest of an oversized line.
    public var isDiscarding: Bool { discarded != nil }

    /// Next complete line or oversize report from the front of `buffer`, consuming its bytes; nil
    /// when no complete line is there yet. A partial line already longer than maxLineBytes is
    /// consumed and discarded up to its newline, then reported once as `.oversized` (total bytes
    /// dropped). Never holds more than maxLineBytes of a line in `buffer`.
    public mutating func next(from buffer: inout ByteBuffer) -> FramedLine? {
        let readable = buffer.readableBytes
        if scanned > readable { scanned = 0 }  // the caller replaced the buffer
        let newline = buffer.withUnsafeReadableBytes { Self.firstNewline(in: $0, from: scanned) }
        if let dropped = discarded {
            guard let newline else {
                discarded = dropped + readable
                buffer.moveReaderIndex(forwardBy: readable)
                scanned = 0
                return nil
            }
            buffer.moveReaderIndex(forwardBy: newline + 1)
            discarded = nil
            scanned = 0
            return .oversized(byteCount: dropped + newline)
        }
        guard let newline else {
            scanned = readable
            if readable > maxLineBytes + 1 || (readable == maxLineBytes + 1 && !endsWithCarriageReturn(buffer)) {
                discarded = readable
                buffer.moveReaderIndex(forwardBy: readable)
                scanned = 0
            }
            return nil
        }
        scanned = 0
        var length = newline
        if length > 0, buffer.getInteger(at: buffer.readerIndex + length - 1, as: UInt8.self) == UInt8(ascii: "\r") {
            length -= 1
        }
        guard length <= maxLineBytes, let line = buffer.readSlice(length: length) else {
            buffer.moveReaderIndex(forwardBy: newline + 1)
            return .oversized(byteCount: newline)
        }
        buffer.moveReaderIndex(forwardBy: newline - length + 1)
        return .line(line)
    }

    private func endsWithCarriageReturn(_ buffer: ByteBuffer) -> Bool {
        buffer.getInteger(at: buffer.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\r")
    }

    /// The offset of the first `\n` at or after `start`, eight bytes at a time where possible.
    static func firstNewline(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        let count = bytes.count
        var index = start
        let newlines: UInt64 = 0x0A0A_0A0A_0A0A_0A0A
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while index + 8 <= count {
            // A zero byte in word ^ newlines is a newline (the classic "has zero byte" test).
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ newlines
            if (word &- ones) & ~word & highs != 0 { break }
            index += 8
        }
        while index < count {
            if bytes[index] == UInt8(ascii: "\n") { return index }
            index += 1
        }
        return nil
    }
}
