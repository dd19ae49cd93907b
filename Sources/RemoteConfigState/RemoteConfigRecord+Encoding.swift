/// Why a stored record could not be read.
public struct RecordDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, naming the line when there is one.
    public let description: String

    init(_ description: String) { self.description = description }
}

extension RemoteConfigRecord {
    /// The first line of every record; the number is the format's version.
    static let header = "wharf-remote-config-record 1"

    /// The record as text: a header, one `key=value` line each, and a checksum line over all that
    /// precedes it, so that a partly written or damaged file is rejected rather than half read.
    public func encoded() -> String {
        var lines = [Self.header]
        lines.append("last_known_good=\(lastKnownGood)")
        lines.append("highest_version=\(highestVersion)")
        lines.append("desired_seen=\(desiredSeen)")
        if let provisional {
            lines.append("provisional=\(provisional.version)")
            lines.append("provisional_restart=\(provisional.needsRestart)")
            lines += provisional.sections.map { "provisional_section=\(Self.escape($0))" }
            lines.append("remaining_ns=\(remainingNanoseconds)")
            lines += provisionalStarts.map { "provisional_start=\($0)" }
        }
        if let attempt = lastAttempt {
            lines.append("attempt=\(attempt.version)")
            lines.append("attempt_result=\(attempt.result.rawValue)")
            lines += attempt.sections.map { "attempt_section=\(Self.escape($0))" }
            lines += attempt.errors.map { "attempt_error=\(Self.escape($0.path))\t\(Self.escape($0.message))" }
            lines.append("attempt_started_at=\(attempt.startedAt)")
            if let finishedAt = attempt.finishedAt { lines.append("attempt_finished_at=\(finishedAt)") }
        }
        lines.append("updated_at=\(updatedAt)")
        let body = lines.joined(separator: "\n") + "\n"
        return body + "checksum=\(Self.checksum(body))\n"
    }

    /// Reads a record written by `encoded()`; throws on anything else, a truncated or altered file included.
    public init(decoding text: String) throws(RecordDecodingError) {
        guard text.hasSuffix("\n") else { throw RecordDecodingError("the record does not end with a newline") }
        let content = text.dropLast()
        guard let split = content.lastIndex(of: "\n") else { throw RecordDecodingError("the record has no checksum") }
        let body = String(content[...split])
        let last = content[content.index(after: split)...]
        guard last.hasPrefix("checksum="), last.dropFirst("checksum=".count) == Self.checksum(body) else {
            throw RecordDecodingError("the record's checksum does not match its content")
        }
        var fields = RecordFields(lines: body.dropLast().split(separator: "\n", omittingEmptySubsequences: false))
        try fields.readHeader()
        self.init()
        lastKnownGood = try fields.number("last_known_good")
        highestVersion = try fields.number("highest_version")
        desiredSeen = try fields.number("desired_seen")
        if let version: UInt64 = try fields.optionalNumber("provisional") {
            let restart = try fields.boolean("provisional_restart")
            let sections = try fields.all("provisional_section").map { value throws(RecordDecodingError) in
                try Self.unescape(value)
            }
            provisional = Candidate(version: version, sections: sections, needsRestart: restart)
            remainingNanoseconds = try fields.number("remaining_ns")
            provisionalStarts = try fields.all("provisional_start").map { value throws(RecordDecodingError) in
                try RecordFields.parse(value, key: "provisional_start")
            }
        }
        if let version: UInt64 = try fields.optionalNumber("attempt") {
            lastAttempt = try Self.readAttempt(version: version, from: &fields)
        }
        updatedAt = try fields.number("updated_at")
        try fields.finish()
    }

    /// The attempt's lines after `attempt=`.
    private static func readAttempt(version: UInt64, from fields: inout RecordFields) throws(RecordDecodingError)
        -> Attempt
    {
        let rawResult = try fields.single("attempt_result")
        guard let result = AttemptResult(rawValue: rawResult) else {
            throw RecordDecodingError("unknown attempt_result '\(rawResult)'")
        }
        let sections = try fields.all("attempt_section").map { value throws(RecordDecodingError) in
            try unescape(value)
        }
        let errors = try fields.all("attempt_error").map { value throws(RecordDecodingError) in
            let parts = value.split(separator: "\t", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw RecordDecodingError("attempt_error needs a path and a message") }
            return ReportedError(path: try unescape(parts[0]), message: try unescape(parts[1]))
        }
        let startedAt: Int64 = try fields.number("attempt_started_at")
        let finishedAt: Int64? = try fields.optionalNumber("attempt_finished_at")
        return Attempt(
            version: version, result: result, sections: sections, errors: errors, startedAt: startedAt,
            finishedAt: finishedAt)
    }

    /// FNV-1a (64 bits) of `text`'s UTF-8 bytes as 16 hex digits: catches truncation and damage, not
    /// tampering (the file is the daemon's own, under its state directory).
    static func checksum(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// A value with its backslashes, tabs and line breaks escaped, so it stays on its line.
    static func escape(_ value: String) -> String {
        var output = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output
    }

    /// The inverse of `escape`.
    static func unescape(_ value: Substring) throws(RecordDecodingError) -> String {
        var output = ""
        var escaping = false
        for scalar in value.unicodeScalars {
            if escaping {
                switch scalar {
                case "\\": output += "\\"
                case "n": output += "\n"
                case "r": output += "\r"
                case "t": output += "\t"
                default: throw RecordDecodingError("unknown escape '\\\(scalar)'")
                }
                escaping = false
            } else if scalar == "\\" {
                escaping = true
            } else {
                output.unicodeScalars.append(scalar)
            }
        }
        if escaping { throw RecordDecodingError("a value ends with a lone backslash") }
        return output
    }
}
