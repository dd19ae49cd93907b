public import WharfCore

/// Why a stored blob could not be decoded; the row holding it is treated as corrupt.
public struct BlobDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong.
    public var reason: String

    /// A one-line explanation.
    public var description: String { "unreadable blob: \(reason)" }
}

/// The compact, versioned binary forms the store keeps `MessageProperties` and subscription
/// identifiers in. Decoding validates everything and throws; it never traps on bad bytes.
///
/// Properties, version 1: `01`, a presence byte (bit 0 payload format indicator, 1 message expiry,
/// 2 content type, 3 response topic, 4 correlation data, 5 user properties), then the present
/// fields in that order: a byte; a big-endian UInt32; and varint-length-prefixed UTF-8 or bytes,
/// user properties as a varint count of name/value pairs. Empty properties are stored as NULL.
public enum BlobCodec {
    static let propertiesVersion: UInt8 = 1
    static let identifiersVersion: UInt8 = 1

    /// The blob for `properties`, or `nil` when there is nothing to store.
    public static func encode(_ properties: MessageProperties) -> [UInt8]? {
        var flags: UInt8 = 0
        if properties.payloadFormatIndicator != nil { flags |= 0x01 }
        if properties.messageExpiryInterval != nil { flags |= 0x02 }
        if properties.contentType != nil { flags |= 0x04 }
        if properties.responseTopic != nil { flags |= 0x08 }
        if properties.correlationData != nil { flags |= 0x10 }
        if !properties.userProperties.isEmpty { flags |= 0x20 }
        if flags == 0 { return nil }

        var out: [UInt8] = [propertiesVersion, flags]
        if let indicator = properties.payloadFormatIndicator {
            out.append(indicator)
        }
        if let expiry = properties.messageExpiryInterval {
            out.append(contentsOf: [UInt8(expiry >> 24), UInt8(truncatingIfNeeded: expiry >> 16)])
            out.append(contentsOf: [UInt8(truncatingIfNeeded: expiry >> 8), UInt8(truncatingIfNeeded: expiry)])
        }
        if let contentType = properties.contentType { appendString(contentType, to: &out) }
        if let responseTopic = properties.responseTopic { appendString(responseTopic, to: &out) }
        if let data = properties.correlationData {
            appendVarint(UInt32(clamping: data.count), to: &out)
            out.append(contentsOf: data)
        }
        if !properties.userProperties.isEmpty {
            appendVarint(UInt32(clamping: properties.userProperties.count), to: &out)
            for pair in properties.userProperties {
                appendString(pair.name, to: &out)
                appendString(pair.value, to: &out)
            }
        }
        return out
    }

    /// Decodes a blob written by `encode(_:)`.
    public static func decodeProperties(_ bytes: [UInt8]) throws(BlobDecodingError) -> MessageProperties {
        // Array.withUnsafeBytes rethrows untyped errors: carry the typed one out in a Result.
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(BlobDecodingError) in try decodeProperties(raw) }
        }
        return try result.get()
    }

    static func decodeProperties(_ raw: UnsafeRawBufferPointer) throws(BlobDecodingError) -> MessageProperties {
        if raw.isEmpty { return MessageProperties() }
        var reader = BlobReader(raw)
        let version = try reader.byte()
        guard version == propertiesVersion else {
            throw BlobDecodingError(reason: "unknown properties version \(version)")
        }
        let flags = try reader.byte()
        guard flags & ~0x3f == 0 else { throw BlobDecodingError(reason: "unknown property flags \(flags)") }
        var properties = MessageProperties()
        if flags & 0x01 != 0 { properties.payloadFormatIndicator = try reader.byte() }
        if flags & 0x02 != 0 {
            var value: UInt32 = 0
            for _ in 0..<4 { value = value << 8 | UInt32(try reader.byte()) }
            properties.messageExpiryInterval = value
        }
        if flags & 0x04 != 0 { properties.contentType = try reader.string() }
        if flags & 0x08 != 0 { properties.responseTopic = try reader.string() }
        if flags & 0x10 != 0 { properties.correlationData = Array(try reader.bytes(Int(try reader.varint()))) }
        if flags & 0x20 != 0 {
            let count = try reader.varint()
            guard count > 0, Int(count) <= reader.remaining / 2 else {
                throw BlobDecodingError(reason: "bad user property count \(count)")
            }
            properties.userProperties.reserveCapacity(Int(count))
            for _ in 0..<count {
                let name = try reader.string()
                properties.userProperties.append(UserProperty(name, try reader.string()))
            }
        }
        try reader.expectEnd()
        return properties
    }

    /// The blob for subscription identifiers, or `nil` when there are none.
    public static func encode(subscriptionIdentifiers: [UInt32]) -> [UInt8]? {
        if subscriptionIdentifiers.isEmpty { return nil }
        var out: [UInt8] = [identifiersVersion]
        for identifier in subscriptionIdentifiers { appendVarint(identifier, to: &out) }
        return out
    }

    /// Decodes a blob written by `encode(subscriptionIdentifiers:)`.
    public static func decodeSubscriptionIdentifiers(_ bytes: [UInt8]) throws(BlobDecodingError) -> [UInt32] {
        if bytes.isEmpty { return [] }
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(BlobDecodingError) in
                var reader = BlobReader(raw)
                let version = try reader.byte()
                guard version == identifiersVersion else {
                    throw BlobDecodingError(reason: "unknown identifiers version \(version)")
                }
                var identifiers: [UInt32] = []
                while reader.remaining > 0 { identifiers.append(try reader.varint()) }
                return identifiers
            }
        }
        return try result.get()
    }

    private static func appendString(_ string: String, to out: inout [UInt8]) {
        appendVarint(UInt32(clamping: string.utf8.count), to: &out)
        out.append(contentsOf: string.utf8)
    }

    private static func appendVarint(_ value: UInt32, to out: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
    }
}

/// A bounds-checked cursor over a blob.
private struct BlobReader {
    private let raw: UnsafeRawBufferPointer
    private var offset = 0

    init(_ raw: UnsafeRawBufferPointer) {
        self.raw = raw
    }

    var remaining: Int { raw.count - offset }

    mutating func byte() throws(BlobDecodingError) -> UInt8 {
        guard offset < raw.count else { throw BlobDecodingError(reason: "truncated at byte \(offset)") }
        defer { offset += 1 }
        return raw[offset]
    }

    mutating func bytes(_ count: Int) throws(BlobDecodingError) -> UnsafeRawBufferPointer.SubSequence {
        guard count >= 0, count <= remaining else {
            throw BlobDecodingError(reason: "length \(count) at byte \(offset) exceeds the blob")
        }
        defer { offset += count }
        return raw[offset..<offset + count]
    }

    /// An unsigned LEB128 of at most five bytes that fits a UInt32.
    mutating func varint() throws(BlobDecodingError) -> UInt32 {
        var value: UInt64 = 0
        for index in 0..<5 {
            let byte = try byte()
            value |= UInt64(byte & 0x7f) << (7 * UInt64(index))
            if byte & 0x80 == 0 {
                guard value <= UInt64(UInt32.max) else { break }
                return UInt32(value)
            }
        }
        throw BlobDecodingError(reason: "bad varint before byte \(offset)")
    }

    mutating func string() throws(BlobDecodingError) -> String {
        let utf8 = try bytes(Int(try varint()))
        guard let string = String(validating: utf8, as: UTF8.self) else {
            throw BlobDecodingError(reason: "invalid UTF-8 before byte \(offset)")
        }
        return string
    }

    func expectEnd() throws(BlobDecodingError) {
        guard remaining == 0 else { throw BlobDecodingError(reason: "\(remaining) trailing bytes") }
    }
}
