import NIOCore

extension PluginJSON {
    /// A syntax error found by `PluginJSON.parse`.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// What was wrong and where.
        public var description: String
    }

    /// Parses one JSON text (RFC 8259, nesting at most 64 deep), or throws when it is not one.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(ParseError) -> PluginJSON {
        guard UTF8Validation.isValid(bytes) else { throw ParseError(description: "invalid UTF-8") }
        var scanner = JSONScanner(bytes)
        let span: JSONSpan
        do throws(JSONSyntaxError) {
            span = try scanner.scanValue(depth: 0)
            scanner.skipWhitespace()
            guard scanner.isAtEnd else { throw scanner.fail("unexpected data after the value") }
        } catch {
            throw ParseError(description: error.description)
        }
        return JSONSpanReader(bytes: bytes).value(span)
    }

    /// Parses the readable bytes of `buffer` as one JSON text.
    public static func parse(_ buffer: ByteBuffer) throws(ParseError) -> PluginJSON {
        let result = buffer.withUnsafeReadableBytes { bytes in
            Result { () throws(ParseError) in try parse(bytes) }
        }
        return try result.get()
    }

    /// Parses `text` as one JSON text.
    public static func parse(_ text: String) throws(ParseError) -> PluginJSON {
        try parse(ByteBuffer(string: text))
    }
}

extension JSONSpanReader {
    /// The whole value of a checked span as a tree (recursion bounded by the scanner's depth limit).
    func value(_ span: JSONSpan) -> PluginJSON {
        switch kind(of: span) {
        case .null: return .null
        case .bool: return .bool(bool(span) ?? false)
        case .string: return .string(string(span) ?? "")
        case .number:
            if case .nonNegative(let value) = integer(span), value <= UInt64(Int64.max) {
                return .integer(Int64(value))
            }
            if case .negative = integer(span),
                let value = Int64(
                    String(decoding: UnsafeRawBufferPointer(rebasing: bytes[span.start..<span.end]), as: UTF8.self))
            {
                return .integer(value)
            }
            return .number(double(span) ?? .nan)
        case .array:
            var elements: [PluginJSON] = []
            forEachElement(span) { elements.append(value($0)) }
            return .array(elements)
        case .object:
            var members: [(String, PluginJSON)] = []
            forEachMember(span) { members.append(($0, value($1))) }
            return .object(members)
        }
    }
}
