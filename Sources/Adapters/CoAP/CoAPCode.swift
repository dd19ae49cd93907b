public import AdapterKit

/// A CoAP response code as `class.detail` (2.04, 4.13), kept as the decimal `class * 100 + detail`.
public struct CoAPCode: Sendable, Hashable, CustomStringConvertible {
    /// `class * 100 + detail`, such as 404.
    public let number: Int

    /// Creates a code from `class * 100 + detail`.
    public init(_ number: Int) { self.number = number }

    /// 2.01 Created.
    public static let created = CoAPCode(201)
    /// 2.04 Changed.
    public static let changed = CoAPCode(204)
    /// 2.05 Content.
    public static let content = CoAPCode(205)
    /// 4.00 Bad Request.
    public static let badRequest = CoAPCode(400)
    /// 4.01 Unauthorized.
    public static let unauthorized = CoAPCode(401)
    /// 4.03 Forbidden.
    public static let forbidden = CoAPCode(403)
    /// 4.04 Not Found.
    public static let notFound = CoAPCode(404)
    /// 4.05 Method Not Allowed.
    public static let methodNotAllowed = CoAPCode(405)
    /// 4.13 Request Entity Too Large.
    public static let requestEntityTooLarge = CoAPCode(413)
    /// 5.00 Internal Server Error.
    public static let internalServerError = CoAPCode(500)
    /// 5.03 Service Unavailable.
    public static let serviceUnavailable = CoAPCode(503)

    /// The class: 2 success, 4 client error, 5 server error.
    public var codeClass: Int { number / 100 }

    /// `2.04`.
    public var description: String {
        let detail = number % 100
        return "\(number / 100).\(detail < 10 ? "0" : "")\(detail)"
    }

    /// The one-byte code of the wire format: class in the top three bits, detail below.
    public var wireValue: UInt8 { UInt8(truncatingIfNeeded: (number / 100) << 5 | (number % 100)) }

    /// The code for a wire byte.
    public init(wireValue: UInt8) { self.init(Int(wireValue >> 5) * 100 + Int(wireValue & 0x1F)) }

    /// The answer to a request whose publish the router refused.
    public static func forPublishError(_ error: PublishError) -> CoAPCode {
        switch error.reason {
        case "topic-invalid": return .badRequest
        case "not-authorized", "forbidden": return .forbidden
        default: return .serviceUnavailable
        }
    }
}
