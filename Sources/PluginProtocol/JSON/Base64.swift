import NIOCore

/// Standard base64 (RFC 4648 §4) for `payload_base64` and `correlation_data_base64`.
///
/// Decoding is strict: only the standard alphabet, no whitespace; the `=` padding may be left
/// out, but when present it must be right; the unused bits of the last character must be zero
/// so that every byte string has exactly one accepted form.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        return table
    }()

    /// Appends the base64 form of `bytes` to `buffer`, padded.
    public static func encode(_ bytes: UnsafeRawBufferPointer, into buffer: inout ByteBuffer) {
        let count = bytes.count
        buffer.reserveCapacity(minimumWritableBytes: (count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= count {
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            buffer.writeInteger(quad(chunk))
            index += 3
        }
        switch count - index {
        case 1:
            let chunk = UInt32(bytes[index]) << 16
            buffer.writeInteger(quad(chunk) & 0xFFFF_0000 | 0x3D3D)
        case 2:
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            buffer.writeInteger(quad(chunk) & 0xFFFF_FF00 | 0x3D)
        default: break
        }
    }

    /// The base64 form of `bytes` as a String (tests, small values).
    public static func encode(_ bytes: [UInt8]) -> String {
        var buffer = ByteBuffer()
        bytes.withUnsafeBytes { encode($0, into: &buffer) }
        return String(buffer: buffer)
    }

    /// Four alphabet characters for 24 bits, big-endian in a UInt32.
    private static func quad(_ chunk: UInt32) -> UInt32 {
        UInt32(alphabet[Int(chunk >> 18 & 63)]) << 24 | UInt32(alphabet[Int(chunk >> 12 & 63)]) << 16
            | UInt32(alphabet[Int(chunk >> 6 & 63)]) << 8 | UInt32(alphabet[Int(chunk & 63)])
    }

    /// The bytes that `text` encodes, or nil when it is not strict base64.
    public static func decode(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        var count = text.count
        if count % 4 == 0, count >= 2 {
            if text[count - 1] == UInt8(ascii: "=") { count -= 1 }
            if text[count - 1] == UInt8(ascii: "=") { count -= 1 }
        }
        guard count % 4 != 1 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for index in 0..<count {
            let value = decodeTable[Int(text[index])]
            guard value != 0xFF else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        guard accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return output
    }

    /// The bytes that `text` encodes, or nil when it is not strict base64.
    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode(UnsafeRawBufferPointer($0)) }
    }
}
