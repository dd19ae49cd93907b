import NIOCore

/// Appends JSON tokens to a ByteBuffer: the host's half of the protocol, one line at a time.
enum JSONWriter {
    /// Appends `text` as a quoted JSON string. Quotes, backslashes and control characters are
    /// escaped; everything else (including non-ASCII) is copied as UTF-8.
    static func writeString(_ text: String, into buffer: inout ByteBuffer) {
        var text = text
        text.withUTF8 { writeString(UnsafeRawBufferPointer($0), into: &buffer) }
    }

    /// Appends valid UTF-8 `bytes` as a quoted JSON string, escaped as `writeString(_:into:)`.
    static func writeString(_ bytes: UnsafeRawBufferPointer, into buffer: inout ByteBuffer) {
        buffer.reserveCapacity(minimumWritableBytes: bytes.count + 2)
        buffer.writeInteger(UInt8(ascii: "\""))
        var runStart = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if runStart < index { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<index])) }
            runStart = index + 1
            switch byte {
            case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case 0x0A: buffer.writeStaticString("\\n")
            case 0x0D: buffer.writeStaticString("\\r")
            case 0x09: buffer.writeStaticString("\\t")
            case 0x08: buffer.writeStaticString("\\b")
            case 0x0C: buffer.writeStaticString("\\f")
            default:
                buffer.writeStaticString("\\u00")
                buffer.writeInteger(hexDigit(byte >> 4))
                buffer.writeInteger(hexDigit(byte & 0x0F))
            }
        }
        if runStart < bytes.count { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<bytes.count])) }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }

    /// Appends `"key":`; keys are the protocol's own ASCII names and need no escaping.
    static func writeKey(_ key: StaticString, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
        buffer.writeStaticString(key)
        buffer.writeStaticString("\":")
    }

    /// Appends `,"key":`.
    static func writeNextKey(_ key: StaticString, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: ","))
        writeKey(key, into: &buffer)
    }

    /// Appends a decimal integer.
    static func writeInteger<I: BinaryInteger>(_ value: I, into buffer: inout ByteBuffer) {
        buffer.writeString(String(value))
    }

    /// Appends `true` or `false`.
    static func writeBool(_ value: Bool, into buffer: inout ByteBuffer) {
        buffer.writeStaticString(value ? "true" : "false")
    }
}
