/// A strict RFC 8259 JSON parser: one value with optional whitespace around it, nothing else.
///
/// Stricter than most on purpose, because what it reads is signed and then applied: duplicate keys
/// are refused (two readers of one document must never see different values), so are invalid
/// UTF-8, lone surrogate escapes, a byte-order mark, control characters in strings and nesting
/// deeper than `maximumDepth`. Numbers keep their literal (see `JSONNumber`). Keys that Swift
/// considers equal (canonically equivalent Unicode, such as a precomposed and a decomposed `é`)
/// count as duplicates too, since the configuration looks keys up with that equality.
public struct JSONParser {
    /// Deeper nesting of arrays and objects than this is refused (the YAML file's limit too).
    public static let maximumDepth = 100

    private let bytes: [UInt8]
    private var position = 0

    /// Parses a whole document.
    public static func parse(_ text: some Collection<UInt8>) -> Result<JSONValue, JSONParseError> {
        var parser = JSONParser(bytes: Array(text))
        do throws(JSONParseError) {
            parser.skipWhitespace()
            let value = try parser.parseValue(path: "", depth: 0)
            parser.skipWhitespace()
            if parser.position < parser.bytes.count {
                throw parser.error("unexpected text after the end of the document", path: "")
            }
            return .success(value)
        } catch {
            return .failure(error)
        }
    }

    /// Parses a whole document given as a string.
    public static func parse(_ text: String) -> Result<JSONValue, JSONParseError> {
        parse(Array(text.utf8))
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private var current: UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
            position += 1
        }
    }

    private mutating func parseValue(path: String, depth: Int) throws(JSONParseError) -> JSONValue {
        guard let byte = current else { throw error("unexpected end of the document, expected a value", path: path) }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(path: path, depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(path: path, depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString(path: path))
        case UInt8(ascii: "t"): return try literal("true", .bool(true), path: path)
        case UInt8(ascii: "f"): return try literal("false", .bool(false), path: path)
        case UInt8(ascii: "n"): return try literal("null", .null, path: path)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber(path: path))
        case 0xEF where bytes[position...].starts(with: [0xEF, 0xBB, 0xBF]):
            throw error("a byte-order mark is not allowed", path: path)
        default: throw error("expected a value, got \(shown(byte))", path: path)
        }
    }

    private mutating func literal(_ word: String, _ value: JSONValue, path: String) throws(JSONParseError)
        -> JSONValue
    {
        guard bytes[position...].starts(with: word.utf8) else { throw error("expected a value", path: path) }
        position += word.utf8.count
        return value
    }

    private mutating func parseObject(path: String, depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= Self.maximumDepth else {
            throw error("arrays and objects are nested more than \(Self.maximumDepth) levels deep", path: path)
        }
        position += 1
        var members: [JSONMember] = []
        var seen = Set<String>()
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position += 1
            return .object([])
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw error("expected a key in double quotes", path: path) }
            let keyStart = position
            let key = try parseString(path: path)
            let memberPath = JSONPath.key(key, in: path)
            guard seen.insert(key).inserted else {
                throw error("duplicate key '\(key)'", path: memberPath, at: keyStart)
            }
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw error("expected ':' after the key", path: memberPath) }
            position += 1
            skipWhitespace()
            members.append(JSONMember(key, try parseValue(path: memberPath, depth: depth)))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"):
                position += 1
                return .object(members)
            default: throw error("expected ',' or '}' after a member", path: path)
            }
        }
    }

    private mutating func parseArray(path: String, depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= Self.maximumDepth else {
            throw error("arrays and objects are nested more than \(Self.maximumDepth) levels deep", path: path)
        }
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            position += 1
            return .array([])
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(path: JSONPath.index(elements.count, in: path), depth: depth))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"):
                position += 1
                return .array(elements)
            default: throw error("expected ',' or ']' after an element", path: path)
            }
        }
    }

    private mutating func parseNumber(path: String) throws(JSONParseError) -> JSONNumber {
        let start = position
        while let byte = current,
            JSONNumber.isDigit(byte)
                || [
                    UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
                    UInt8(ascii: "e"), UInt8(ascii: "E"),
                ].contains(byte)
        {
            position += 1
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        guard let number = JSONNumber(literal: text) else {
            throw error("'\(text)' is not a JSON number", path: path, at: start)
        }
        guard number.doubleValue != nil else {
            throw error("the number \(text) is too large", path: path, at: start)
        }
        return number
    }

    private mutating func parseString(path: String) throws(JSONParseError) -> String {
        let start = position
        position += 1
        var utf8: [UInt8] = []
        while true {
            guard let byte = current else { throw error("unterminated string", path: path, at: start) }
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let text = String(validating: utf8, as: UTF8.self) else {
                    throw error("the string is not valid UTF-8", path: path, at: start)
                }
                return text
            case UInt8(ascii: "\\"):
                position += 1
                try parseEscape(into: &utf8, path: path)
            case 0..<0x20:
                throw error("control character \(shown(byte)) in a string must be escaped", path: path)
            default:
                utf8.append(byte)
                position += 1
            }
        }
    }

    private mutating func parseEscape(into utf8: inout [UInt8], path: String) throws(JSONParseError) {
        guard let byte = current else { throw error("unterminated string", path: path) }
        position += 1
        let simple: [UInt8: UInt8] = [
            UInt8(ascii: "\""): 0x22, UInt8(ascii: "\\"): 0x5C, UInt8(ascii: "/"): 0x2F, UInt8(ascii: "b"): 0x08,
            UInt8(ascii: "f"): 0x0C, UInt8(ascii: "n"): 0x0A, UInt8(ascii: "r"): 0x0D, UInt8(ascii: "t"): 0x09,
        ]
        if let replacement = simple[byte] {
            utf8.append(replacement)
            return
        }
        guard byte == UInt8(ascii: "u") else {
            throw error("unknown escape '\\\(Character(Unicode.Scalar(byte)))'", path: path, at: position - 2)
        }
        let escapeStart = position - 2
        var scalarValue = try hex4(path: path)
        if (0xD800...0xDBFF).contains(scalarValue) {
            guard bytes[position...].starts(with: [UInt8(ascii: "\\"), UInt8(ascii: "u")]) else {
                throw error("lone surrogate escape", path: path, at: escapeStart)
            }
            position += 2
            let low = try hex4(path: path)
            guard (0xDC00...0xDFFF).contains(low) else {
                throw error("lone surrogate escape", path: path, at: escapeStart)
            }
            scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(scalarValue) {
            throw error("lone surrogate escape", path: path, at: escapeStart)
        }
        guard let scalar = Unicode.Scalar(scalarValue) else {
            throw error("invalid escape", path: path, at: escapeStart)
        }
        utf8.append(contentsOf: String(Character(scalar)).utf8)
    }

    private mutating func hex4(path: String) throws(JSONParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = current, let digit = Self.hexValue(byte) else {
                throw error("expected four hexadecimal digits after '\\u'", path: path)
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    private func shown(_ byte: UInt8) -> String {
        (0x21..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x" + hex(byte)
    }

    private func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }

    private func error(_ message: String, path: String, at offset: Int? = nil) -> JSONParseError {
        let offset = min(offset ?? position, bytes.count)
        var line = 1
        var lineStart = 0
        for index in 0..<offset where bytes[index] == 0x0A {
            line += 1
            lineStart = index + 1
        }
        return JSONParseError(offset: offset, line: line, column: offset - lineStart + 1, path: path, message: message)
    }
}
