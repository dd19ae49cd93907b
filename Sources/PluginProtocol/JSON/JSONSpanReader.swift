import NIOCore

/// Reads values out of spans of a line that `JSONScanner` already accepted.
///
/// Because the syntax is known to be good, these readers only decide what a value is; the
/// few checks left are there so that a caller's mistake degrades to `nil`, never to a trap.
struct JSONSpanReader {
    /// What kind of JSON value a span holds.
    enum Kind: Equatable {
        case string, number, object, array, bool, null
    }

    /// A non-fractional number as written in the line.
    enum Integer: Equatable {
        /// A non-negative integer that fits in 64 bits.
        case nonNegative(UInt64)
        /// A negative integer.
        case negative
        /// An integer too large for 64 bits.
        case tooLarge
    }

    let bytes: UnsafeRawBufferPointer

    func kind(of span: JSONSpan) -> Kind {
        switch bytes[span.start] {
        case UInt8(ascii: "\""): .string
        case UInt8(ascii: "{"): .object
        case UInt8(ascii: "["): .array
        case UInt8(ascii: "t"), UInt8(ascii: "f"): .bool
        case UInt8(ascii: "n"): .null
        default: .number
        }
    }

    /// The value as a Bool, or nil when it is not `true` or `false`.
    func bool(_ span: JSONSpan) -> Bool? {
        switch bytes[span.start] {
        case UInt8(ascii: "t"): true
        case UInt8(ascii: "f"): false
        default: nil
        }
    }

    /// The value as an integer, or nil when it is not a number written without fraction or exponent.
    func integer(_ span: JSONSpan) -> Integer? {
        guard kind(of: span) == .number else { return nil }
        var index = span.start
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        var value: UInt64 = 0
        var overflow = false
        while index < span.end {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }  // '.', 'e', 'E': not an integer
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(digit))
            overflow = overflow || o1 || o2
            value = sum
            index += 1
        }
        if negative { return value == 0 && !overflow ? .nonNegative(0) : .negative }
        return overflow ? .tooLarge : .nonNegative(value)
    }

    /// The value as a Double (any JSON number), or nil when it is not a number.
    func double(_ span: JSONSpan) -> Double? {
        guard kind(of: span) == .number else { return nil }
        return Double(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[span.start..<span.end]), as: UTF8.self))
    }

    /// The value as a String (escapes resolved), or nil when it is not a string.
    func string(_ span: JSONSpan) -> String? {
        guard kind(of: span) == .string else { return nil }
        let body = UnsafeRawBufferPointer(rebasing: bytes[(span.start + 1)..<(span.end - 1)])
        guard span.hasEscapes else { return String(decoding: body, as: UTF8.self) }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(body.count)
        Self.unescape(body) { decoded.append(contentsOf: $0) }
        return String(decoding: decoded, as: UTF8.self)
    }

    /// The UTF-8 bytes of a string value (escapes resolved) in a new buffer, or nil when it is not a string.
    func stringBytes(_ span: JSONSpan) -> ByteBuffer? {
        guard kind(of: span) == .string else { return nil }
        let body = UnsafeRawBufferPointer(rebasing: bytes[(span.start + 1)..<(span.end - 1)])
        var buffer = ByteBufferAllocator().buffer(capacity: body.count)
        if span.hasEscapes {
            Self.unescape(body) { buffer.writeBytes($0) }
        } else {
            buffer.writeBytes(body)
        }
        return buffer
    }

    /// The raw bytes between the quotes of a string without escapes (base64 text, keys).
    func rawStringBody(_ span: JSONSpan) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[(span.start + 1)..<(span.end - 1)])
    }

    /// Members of an object span, in order; keys decoded.
    func forEachMember(_ span: JSONSpan, _ body: (String, JSONSpan) -> Void) {
        var scanner = JSONScanner(bytes, at: span.start)
        // The line was scanned already: this cannot fail, and a failure only ends the walk.
        try? scanner.scanObject(depth: 0) { key, value throws(JSONSyntaxError) in
            body(self.string(key) ?? "", value)
        }
    }

    /// Elements of an array span, in order.
    func forEachElement(_ span: JSONSpan, _ body: (JSONSpan) -> Void) {
        var scanner = JSONScanner(bytes, at: span.start)
        try? scanner.scanArray(depth: 0) { element throws(JSONSyntaxError) in body(element) }
    }

    /// Resolves the escapes of a checked string body, handing runs of UTF-8 bytes to `emit`.
    static func unescape(_ body: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) -> Void) {
        var index = 0
        var runStart = 0
        func byte(_ value: UInt8) {
            withUnsafeBytes(of: value) { emit($0) }
        }
        while index < body.count {
            guard body[index] == UInt8(ascii: "\\") else {
                index += 1
                continue
            }
            if runStart < index { emit(UnsafeRawBufferPointer(rebasing: body[runStart..<index])) }
            index += 1
            guard index < body.count else { break }
            let code = body[index]
            index += 1
            switch code {
            case UInt8(ascii: "b"): byte(0x08)
            case UInt8(ascii: "f"): byte(0x0C)
            case UInt8(ascii: "n"): byte(0x0A)
            case UInt8(ascii: "r"): byte(0x0D)
            case UInt8(ascii: "t"): byte(0x09)
            case UInt8(ascii: "u"):
                var scalar = UInt32(hex4(body, at: index))
                index += 4
                if (0xD800...0xDBFF).contains(scalar), index + 6 <= body.count {
                    let low = UInt32(hex4(body, at: index + 2))
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                }
                let encoded = Array(String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
                encoded.withUnsafeBytes { emit($0) }
            default: byte(code)  // '"', '\\', '/'
            }
            runStart = index
        }
        if runStart < body.count { emit(UnsafeRawBufferPointer(rebasing: body[runStart..<body.count])) }
    }

    private static func hex4(_ body: UnsafeRawBufferPointer, at index: Int) -> UInt16 {
        var value: UInt16 = 0
        for offset in 0..<4 where index + offset < body.count {
            value = value << 4 | UInt16(JSONScanner.hexValue(body[index + offset]) ?? 0)
        }
        return value
    }
}
