/// A one-pass check of JSON syntax over the bytes of one line (already valid UTF-8).
///
/// It builds nothing: it checks a value and reports its span, so that the decoder can read only
/// the members it needs and skip the rest at the cost of a scan. Nesting is limited to
/// `maxDepth` so that a hostile line cannot exhaust the stack.
struct JSONScanner {
    /// The deepest nesting of arrays and objects accepted.
    static let maxDepth = 64

    let bytes: UnsafeRawBufferPointer
    var index = 0

    init(_ bytes: UnsafeRawBufferPointer, at index: Int = 0) {
        self.bytes = bytes
        self.index = index
    }

    var isAtEnd: Bool { index >= bytes.count }

    func fail(_ message: String) -> JSONSyntaxError { JSONSyntaxError(message: message, offset: index) }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// The next byte after whitespace, not consumed.
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return index < bytes.count ? bytes[index] : nil
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(JSONSyntaxError) {
        guard peek() == byte else { throw fail("expected \(what)") }
        index += 1
    }

    /// Checks one value of any kind and returns its span.
    mutating func scanValue(depth: Int) throws(JSONSyntaxError) -> JSONSpan {
        guard let first = peek() else { throw fail("unexpected end of line") }
        let start = index
        switch first {
        case UInt8(ascii: "\""):
            let escapes = try scanString()
            return JSONSpan(start: start, end: index, hasEscapes: escapes)
        case UInt8(ascii: "{"):
            try scanObject(depth: depth + 1) { _, _ throws(JSONSyntaxError) in }
        case UInt8(ascii: "["):
            try scanArray(depth: depth + 1) { _ throws(JSONSyntaxError) in }
        case UInt8(ascii: "t"): try scanLiteral("true")
        case UInt8(ascii: "f"): try scanLiteral("false")
        case UInt8(ascii: "n"): try scanLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try scanNumber()
        default: throw fail("unexpected character")
        }
        return JSONSpan(start: start, end: index)
    }

    /// Checks an object, calling `member` with each key's span and its value's span.
    mutating func scanObject(
        depth: Int,
        _ member: (JSONSpan, JSONSpan) throws(JSONSyntaxError) -> Void
    ) throws(JSONSyntaxError) {
        guard depth <= Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
        try expect(UInt8(ascii: "{"), "'{'")
        if peek() == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let keyStart = index
            let keyEscapes = try scanString()
            let key = JSONSpan(start: keyStart, end: index, hasEscapes: keyEscapes)
            try expect(UInt8(ascii: ":"), "':'")
            let value = try scanValue(depth: depth)
            try member(key, value)
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return
            default: throw fail("expected ',' or '}'")
            }
        }
    }

    /// Checks an array, calling `element` with each element's span.
    mutating func scanArray(
        depth: Int,
        _ element: (JSONSpan) throws(JSONSyntaxError) -> Void
    ) throws(JSONSyntaxError) {
        guard depth <= Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
        try expect(UInt8(ascii: "["), "'['")
        if peek() == UInt8(ascii: "]") {
            index += 1
            return
        }
        while true {
            try element(try scanValue(depth: depth))
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return
            default: throw fail("expected ',' or ']'")
            }
        }
    }

    /// Checks a string from its opening quote; whether it holds escapes.
    mutating func scanString() throws(JSONSyntaxError) -> Bool {
        index += 1  // the opening quote
        var escapes = false
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return escapes
            case UInt8(ascii: "\\"):
                escapes = true
                try scanEscape()
            case 0..<0x20:
                throw fail("unescaped control character in a string")
            default:
                index += 1
            }
        }
        throw fail("unterminated string")
    }

    private mutating func scanEscape() throws(JSONSyntaxError) {
        index += 1
        guard index < bytes.count else { throw fail("unterminated escape") }
        switch bytes[index] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
            UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            index += 1
        case UInt8(ascii: "u"):
            index += 1
            let unit = try scanHex4()
            switch unit {
            case 0xD800...0xDBFF:
                // A high surrogate must be followed by an escaped low one: the pair is one scalar.
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                    bytes[index + 1] == UInt8(ascii: "u")
                else { throw fail("unpaired surrogate in \\u escape") }
                index += 2
                guard (0xDC00...0xDFFF).contains(try scanHex4()) else {
                    throw fail("unpaired surrogate in \\u escape")
                }
            case 0xDC00...0xDFFF:
                throw fail("unpaired surrogate in \\u escape")
            default:
                break
            }
        default:
            throw fail("invalid escape")
        }
    }

    private mutating func scanHex4() throws(JSONSyntaxError) -> UInt16 {
        guard index + 4 <= bytes.count else { throw fail("short \\u escape") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard let digit = Self.hexValue(bytes[index]) else { throw fail("invalid \\u escape") }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private mutating func scanLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("invalid literal") }
        let matches = literal.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[index + $0] == expected[$0] }
        }
        guard matches else { throw fail("invalid literal") }
        index += count
    }

    /// Checks a number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private mutating func scanNumber() throws(JSONSyntaxError) {
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, Self.isDigit(bytes[index]) else { throw fail("invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, Self.isDigit(bytes[index]) else { throw fail("invalid number") }
            skipDigits()
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard index < bytes.count, Self.isDigit(bytes[index]) else { throw fail("invalid number") }
            skipDigits()
        }
    }

    private mutating func skipDigits() {
        while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }
}
