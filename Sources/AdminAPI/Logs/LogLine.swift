/// One warning-or-worse log line as `GET /api/v1/logs` and the `log` event give it.
public struct LogLine: Sendable, Equatable, Encodable {
    /// When it was written: RFC 3339 UTC with milliseconds, as on standard error.
    public var time: String
    /// `warning`, `error` or `critical`.
    public var level: String
    /// The logger's label, such as `wharf.uplink`.
    public var label: String
    /// The message, cut at ``maxMessageBytes``.
    public var message: String
    /// The line's metadata (at most ``maxMetadataEntries`` keys, values cut at ``maxValueBytes``).
    public var metadata: [String: String]

    /// The most bytes of a message kept: the ring's memory is bounded by its capacity times this
    /// (plus the metadata's bound), whatever a plugin or a client puts into a line.
    public static let maxMessageBytes = 2048
    /// The most metadata keys kept per line (the first ones in key order).
    public static let maxMetadataEntries = 16
    /// The most bytes of one metadata key or value kept.
    public static let maxValueBytes = 256
    /// What ends a text that was cut.
    static let cutMark = "…"

    /// A line, with its message and metadata cut to the bounds.
    public init(time: String, level: String, label: String, message: String, metadata: [String: String]) {
        self.time = time
        self.level = level
        self.label = Self.cut(label, to: Self.maxValueBytes)
        self.message = Self.cut(message, to: Self.maxMessageBytes)
        var kept: [String: String] = [:]
        for key in metadata.keys.sorted().prefix(Self.maxMetadataEntries) {
            kept[Self.cut(key, to: Self.maxValueBytes)] = metadata[key].map { Self.cut($0, to: Self.maxValueBytes) }
        }
        self.metadata = kept
    }

    /// `text` if it has at most `limit` UTF-8 bytes; otherwise its longest prefix of whole
    /// characters that, with the cut mark, fits in `limit` bytes.
    static func cut(_ text: String, to limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        let room = limit - cutMark.utf8.count
        var used = 0
        var end = text.startIndex
        for index in text.indices {
            let size = text[index].utf8.count
            guard used + size <= room else { break }
            used += size
            end = text.index(after: index)
        }
        return String(text[..<end]) + cutMark
    }

    enum CodingKeys: String, CodingKey {
        case time, level, label, message, metadata
    }
}
