import NIOCore

/// What the line framer found at the front of the plugin's output.
public enum FramedLine: Sendable, Hashable {
    /// One complete line, without its `\n` and without a `\r` right before it.
    case line(ByteBuffer)
    /// A line longer than the limit, dropped whole; `byteCount` is its length without the `\n`.
    case oversized(byteCount: Int)
}
