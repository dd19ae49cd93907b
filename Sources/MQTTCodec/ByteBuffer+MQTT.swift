import NIOCore

/// The largest value a Variable Byte Integer can carry (and so the largest Remaining Length).
let mqttMaximumVariableByteInteger = 268_435_455

/// The largest length a UTF-8 string or binary data field can declare.
let mqttMaximumFieldLength = 65_535

/// The number of bytes `value` takes as a Variable Byte Integer.
@inline(__always)
func variableByteIntegerSize(_ value: Int) -> Int {
    if value < 128 { return 1 }
    if value < 16_384 { return 2 }
    if value < 2_097_152 { return 3 }
    return 4
}

/// The number of bytes a UTF-8 Encoded String field takes.
@inline(__always)
func stringFieldSize(_ string: String) -> Int { 2 + string.utf8.count }

/// The outcome of reading a UTF-8 Encoded String.
private enum StringCheck {
    case valid(String, hasWildcard: Bool)
    case truncatedLength
    case tooLong(Int, available: Int)
    case containsNull
    case invalidUTF8
}

/// What a string's bytes contain, found eight bytes at a time.
private struct ByteScan {
    var hasNull = false
    var hasWildcard = false
    var isASCII = true

    @inline(__always)
    init(_ bytes: UnsafeRawBufferPointer) {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let plus = ones &* UInt64(UInt8(ascii: "+"))
        let hash = ones &* UInt64(UInt8(ascii: "#"))
        // A word has a zero byte iff (w - 0x01..) & ~w & 0x80.. is non-zero; XOR first to look for other bytes.
        @inline(__always) func zeroBytes(_ word: UInt64) -> UInt64 { (word &- ones) & ~word & highs }
        var nulls: UInt64 = 0
        var wildcards: UInt64 = 0
        var seen: UInt64 = 0
        var index = 0
        while index + 8 <= bytes.count {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            seen |= word
            nulls |= zeroBytes(word)
            wildcards |= zeroBytes(word ^ plus) | zeroBytes(word ^ hash)
            index += 8
        }
        while index < bytes.count {
            let byte = bytes[index]
            seen |= UInt64(byte)
            if byte == 0 { nulls = 1 }
            if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "#") { wildcards = 1 }
            index += 1
        }
        hasNull = nulls != 0
        hasWildcard = wildcards != 0
        isASCII = seen & highs == 0
    }
}

// MARK: Reading (bodies are complete: running out of bytes is a malformed packet)

extension ByteBuffer {
    /// Reads a one-byte field.
    @inline(__always)
    mutating func readMQTTByte(_ field: String) throws(MQTTDecodeError) -> UInt8 {
        guard let value = readInteger(as: UInt8.self) else { throw .malformed("\(field) is missing") }
        return value
    }

    /// Reads a Two Byte Integer field.
    @inline(__always)
    mutating func readMQTTUInt16(_ field: String) throws(MQTTDecodeError) -> UInt16 {
        guard let value = readInteger(as: UInt16.self) else { throw .malformed("\(field) is truncated") }
        return value
    }

    /// Reads a Four Byte Integer field.
    @inline(__always)
    mutating func readMQTTUInt32(_ field: String) throws(MQTTDecodeError) -> UInt32 {
        guard let value = readInteger(as: UInt32.self) else { throw .malformed("\(field) is truncated") }
        return value
    }

    /// Reads a Variable Byte Integer, rejecting encodings longer than 4 bytes or than necessary.
    mutating func readMQTTVariableByteInteger(_ field: String) throws(MQTTDecodeError) -> Int {
        var value = 0
        var shift = 0
        for index in 0..<4 {
            guard let byte = readInteger(as: UInt8.self) else { throw .malformed("\(field) is truncated") }
            value |= Int(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                // A final zero byte after continuation bytes adds nothing: a longer encoding than needed.
                if byte == 0 && index > 0 { throw .malformed("\(field) is not minimally encoded") }
                return value
            }
            shift += 7
        }
        throw .malformed("\(field) is longer than 4 bytes")
    }

    /// Reads a UTF-8 Encoded String: well-formed UTF-8 without U+0000.
    @inline(__always)
    mutating func readMQTTString(_ field: String) throws(MQTTDecodeError) -> String {
        try readMQTTStringScanningWildcards(field).string
    }

    /// Reads a UTF-8 Encoded String and reports whether it contains a `+` or `#` wildcard.
    mutating func readMQTTStringScanningWildcards(
        _ field: String
    ) throws(MQTTDecodeError) -> (string: String, hasWildcard: Bool) {
        // Length and content in one buffer access: each access costs an exclusivity check.
        let check = withUnsafeReadableBytes { raw -> StringCheck in
            guard raw.count >= 2 else { return .truncatedLength }
            let count = Int(raw[0]) << 8 | Int(raw[1])
            guard count <= raw.count - 2 else { return .tooLong(count, available: raw.count - 2) }
            if count == 0 { return .valid("", hasWildcard: false) }
            let bytes = UnsafeRawBufferPointer(rebasing: raw[2..<2 + count])
            let scan = ByteScan(bytes)
            if scan.hasNull { return .containsNull }
            if scan.isASCII {
                return .valid(String(decoding: bytes, as: UTF8.self), hasWildcard: scan.hasWildcard)
            }
            guard let string = String(validating: bytes, as: UTF8.self) else { return .invalidUTF8 }
            return .valid(string, hasWildcard: scan.hasWildcard)
        }
        switch check {
        case .valid(let string, let hasWildcard):
            moveReaderIndex(forwardBy: 2 + string.utf8.count)
            return (string, hasWildcard)
        case .truncatedLength:
            throw .malformed("\(field) length is truncated")
        case .tooLong(let count, let available):
            throw .malformed("\(field) declares \(count) bytes but only \(available) remain")
        case .containsNull:
            throw .malformed("\(field) contains U+0000")
        case .invalidUTF8:
            throw .malformed("\(field) is not well-formed UTF-8")
        }
    }

    /// Reads a Binary Data field into an array.
    mutating func readMQTTBinary(_ field: String) throws(MQTTDecodeError) -> [UInt8] {
        guard let length = readInteger(as: UInt16.self) else { throw .malformed("\(field) length is truncated") }
        guard let bytes = readBytes(length: Int(length)) else {
            throw .malformed("\(field) declares \(length) bytes but only \(readableBytes) remain")
        }
        return bytes
    }

    /// Reads a Binary Data field as a slice of this buffer (no copy).
    mutating func readMQTTBinarySlice(_ field: String) throws(MQTTDecodeError) -> ByteBuffer {
        guard let length = readInteger(as: UInt16.self) else { throw .malformed("\(field) length is truncated") }
        guard let slice = readSlice(length: Int(length)) else {
            throw .malformed("\(field) declares \(length) bytes but only \(readableBytes) remain")
        }
        return slice
    }

    /// Reads a packet identifier, which must not be 0.
    @inline(__always)
    mutating func readMQTTPacketIdentifier() throws(MQTTDecodeError) -> UInt16 {
        guard let identifier = readInteger(as: UInt16.self) else { throw .malformed("packet identifier is truncated") }
        guard identifier != 0 else { throw .protocolError("packet identifier 0 is not allowed") }
        return identifier
    }
}

// MARK: Writing (sizes are checked before anything is written, fields as they are written)

extension ByteBuffer {
    /// Writes a Variable Byte Integer; `value` must be at most `mqttMaximumVariableByteInteger`.
    @inline(__always)
    mutating func writeMQTTVariableByteInteger(_ value: Int) {
        var remaining = value
        repeat {
            var byte = UInt8(truncatingIfNeeded: remaining & 0x7F)
            remaining >>= 7
            if remaining > 0 { byte |= 0x80 }
            writeInteger(byte)
        } while remaining > 0
    }

    /// Writes a UTF-8 Encoded String field.
    @inline(__always)
    mutating func writeMQTTString(_ string: String, _ field: String) throws(MQTTEncodeError) {
        let count = string.utf8.count
        guard count <= mqttMaximumFieldLength else {
            throw MQTTEncodeError(message: "\(field) is \(count) bytes; at most 65535 fit")
        }
        writeInteger(UInt16(truncatingIfNeeded: count))
        writeString(string)
    }

    /// Writes a Binary Data field.
    mutating func writeMQTTBinary(_ bytes: [UInt8], _ field: String) throws(MQTTEncodeError) {
        guard bytes.count <= mqttMaximumFieldLength else {
            throw MQTTEncodeError(message: "\(field) is \(bytes.count) bytes; at most 65535 fit")
        }
        writeInteger(UInt16(truncatingIfNeeded: bytes.count))
        writeBytes(bytes)
    }

    /// Writes a Binary Data field from a buffer's readable bytes.
    mutating func writeMQTTBinary(_ bytes: ByteBuffer, _ field: String) throws(MQTTEncodeError) {
        guard bytes.readableBytes <= mqttMaximumFieldLength else {
            throw MQTTEncodeError(message: "\(field) is \(bytes.readableBytes) bytes; at most 65535 fit")
        }
        writeInteger(UInt16(truncatingIfNeeded: bytes.readableBytes))
        writeImmutableBuffer(bytes)
    }
}
