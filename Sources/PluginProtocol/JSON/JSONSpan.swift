/// The bytes of one JSON value inside a line that was already checked to be well-formed.
struct JSONSpan: Sendable {
    /// Offset of the value's first byte.
    var start: Int
    /// Offset one past the value's last byte.
    var end: Int
    /// Whether the value is a string holding at least one escape (only meaningful for strings).
    var hasEscapes: Bool = false
}
