/// A parsed `coap://` or `coaps://` URI of a device resource.
public struct DeviceURI: Sendable, Equatable, CustomStringConvertible {
    /// Whether the device is reached through DTLS.
    public var secure: Bool
    /// Host name or address (IPv6 without brackets).
    public var host: String
    /// UDP port.
    public var port: Int
    /// Path segments, percent-decoded.
    public var path: [String]
    /// Query parameters as written, without `?`, split at `&`.
    public var query: [String]
    /// The URI as written.
    public let description: String

    /// Parses a URI; `nil` with a reason when it is not a usable CoAP URI.
    public static func parse(_ text: String) -> Result<DeviceURI, URIError> {
        let lower = text.lowercased()
        let secure: Bool
        let rest: Substring
        if lower.hasPrefix("coap://") {
            secure = false
            rest = text.dropFirst("coap://".count)
        } else if lower.hasPrefix("coaps://") {
            secure = true
            rest = text.dropFirst("coaps://".count)
        } else {
            return .failure(URIError(message: "expected a coap:// or coaps:// URI, got '\(text)'"))
        }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                return .failure(URIError(message: "unclosed '[' in the host of '\(text)'"))
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                return .failure(URIError(message: "unexpected '\(after)' after the host of '\(text)'"))
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { return .failure(URIError(message: "no host in '\(text)'")) }
        var port = secure ? 5684 : 5683
        if let portText {
            guard let number = Int(portText), (1...65_535).contains(number) else {
                return .failure(URIError(message: "port '\(portText)' of '\(text)' is not 1 to 65535"))
            }
            port = number
        }
        var pathPart = rest[authorityEnd...]
        var query: [String] = []
        if let mark = pathPart.firstIndex(of: "?") {
            query = pathPart[pathPart.index(after: mark)...].split(separator: "&").map(String.init)
            pathPart = pathPart[..<mark]
        }
        var segments: [String] = []
        for segment in pathPart.split(separator: "/", omittingEmptySubsequences: true) {
            guard let decoded = percentDecoded(segment) else {
                return .failure(URIError(message: "bad percent-encoding in '\(segment)' of '\(text)'"))
            }
            segments.append(decoded)
        }
        return .success(
            DeviceURI(secure: secure, host: String(host), port: port, path: segments, query: query, description: text)
        )
    }

    /// Why a URI was refused.
    public struct URIError: Error, Sendable, Equatable {
        /// A sentence for the config report.
        public var message: String
    }

    private static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard utf8.count >= 2, let high = hexValue(utf8.removeFirst()), let low = hexValue(utf8.removeFirst())
            else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
