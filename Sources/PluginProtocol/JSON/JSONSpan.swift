/// The bytes of one JSON value inside a line that was already checked to be well-formed.
///
/// Offsets are kept in 32 bits: a line is at most 64 MiB (`max_line_bytes`), and the decoder
/// keeps one optional span per member it knows, so a small span is a small decoder state to copy.
struct JSONSpan: Sendable {
    private let first: UInt32
    private let last: UInt32
    /// Whether the value is a string holding at least one escape (only meaningful for strings).
    let hasEscapes: Bool

    /// Offset of the value's first byte.
    var start: Int { Int(first) }
    /// Offset one past the value's last byte.
    var end: Int { Int(last) }

    init(start: Int, end: Int, hasEscapes: Bool = false) {
        first = UInt32(clamping: start)
        last = UInt32(clamping: end)
        self.hasEscapes = hasEscapes
    }
}
