import WharfCore

/// The id a plugin gives a publish; the host echoes it with the same JSON type and value.
public enum MessageID: Sendable, Hashable {
    /// A JSON string of at most `maxStringBytes` UTF-8 bytes.
    case string(String)
    /// A JSON integer in `0...maxInteger`.
    case number(UInt64)

    /// The longest string id accepted, in UTF-8 bytes.
    public static let maxStringBytes = 64
    /// The largest integer id accepted (2^53, the largest integer every JSON reader keeps exact).
    public static let maxInteger: UInt64 = 1 << 53
}

extension MessageID: CustomStringConvertible {
    /// The id as JSON (`"42"` or `42`), for logs and reports.
    public var description: String {
        switch self {
        case .string(let text): JSONString.quoted(text)
        case .number(let value): String(value)
        }
    }
}
