public import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes one line per event to standard error, as journald and `docker logs` expect:
/// `TIME LEVEL LABEL: message key=value ...`, with line breaks inside a message or value
/// escaped so that an event never spans two lines. The level comes from shared ``LogLevels``.
/// Warning-or-worse lines also go to a ``LogRing`` when one is given (`GET /api/v1/logs`).
public struct WharfLogHandler: LogHandler {
    /// The logger's label, such as `wharf.broker`.
    public let label: String
    let component: Substring
    let levels: LogLevels
    let ring: LogRing?
    private var levelOverride: Logger.Level?
    /// Metadata added to every line of this logger.
    public var metadata: Logger.Metadata = [:]
    /// Adds task-local metadata.
    public var metadataProvider: Logger.MetadataProvider?

    /// Creates a handler for `label`; its component is the last dotted part of the label. Lines
    /// of level warning and above are kept in `ring` too.
    public init(label: String, levels: LogLevels, ring: LogRing? = nil) {
        self.label = label
        self.component = label.split(separator: ".").last ?? Substring(label)
        self.levels = levels
        self.ring = ring
    }

    /// The component's level from the shared table, unless set on this logger.
    public var logLevel: Logger.Level {
        get { levelOverride ?? levels.level(for: String(component)) }
        set { levelOverride = newValue }
    }

    /// Reads or changes one metadata value.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Formats and writes the event.
    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        let time = Self.timestamp()
        let message = event.message.description
        Self.emit(Self.format(time: time, level: event.level, label: label, message: message, metadata: all))
        // One comparison for the lines below warning, which are the many.
        guard event.level >= .warning, let ring else { return }
        ring.append(
            LogLine(
                time: time, level: event.level.rawValue, label: label, message: message,
                metadata: all.mapValues(\.description)))
    }

    /// One line: `time level label: message key=value ...` with keys sorted.
    static func format(time: String, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata)
        -> String
    {
        var line = "\(time) \(level) \(label): \(escaped(message))"
        for key in metadata.keys.sorted() {
            guard let value = metadata[key] else { continue }
            line += " \(key)=\(quoted(escaped(value.description)))"
        }
        return line + "\n"
    }

    /// Line breaks as `\n` and other control characters as `\u00XX`, so that one event stays
    /// one line and text from a client or a plugin (a topic, a stderr line) cannot forge another.
    static func escaped(_ text: String) -> String {
        guard
            text.unicodeScalars.contains(where: {
                $0.value < 0x20 || $0.value == 0x7F || $0 == "\u{2028}" || $0 == "\u{2029}"
            })
        else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\u{2028}" || scalar == "\u{2029}":
                let hex = String(scalar.value, radix: 16, uppercase: true)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Values with spaces in double quotes, so `key=value` pairs stay parseable.
    static func quoted(_ text: String) -> String {
        guard text.isEmpty || text.contains(where: { $0 == " " || $0 == "\"" }) else { return text }
        return "\"" + text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
    }

    static func timestamp() -> String {
        let now = clockTime(CLOCK_REALTIME)
        var seconds = time_t(now.seconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let milliseconds = now.nanoseconds / 1_000_000
        let fraction =
            milliseconds < 10 ? "00\(milliseconds)" : milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(fraction)Z"
    }

    /// One `write(2)` per line, so lines from several threads never interleave.
    static func emit(_ line: String) {
        var bytes = Array(line.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }
}
