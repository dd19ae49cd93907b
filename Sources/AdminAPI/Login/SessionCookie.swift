/// The session cookie: `wharf_session=TOKEN`, where TOKEN is 32 random bytes in base64url.
enum SessionCookie {
    /// The cookie's name.
    static let name = "wharf_session"
    /// The length of a token: 32 bytes in unpadded base64url.
    static let tokenLength = 43

    /// A new token from `generator` (the system's, which reads the kernel's random source, in
    /// the daemon).
    static func newToken(using generator: inout some RandomNumberGenerator) -> String {
        var bytes: [UInt8] = []
        for _ in 0..<4 {
            let word = generator.next()
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: word >> shift)) }
        }
        return base64URL(bytes)
    }

    /// The token in the `Cookie` header values, if one of the right form is there (a malformed
    /// one counts as none).
    static func token(in headers: [String]) -> String? {
        for header in headers {
            for pair in header.split(separator: ";") {
                let trimmed = pair.drop(while: { $0 == " " || $0 == "\t" })
                guard trimmed.hasPrefix(name + "=") else { continue }
                let value = trimmed.dropFirst(name.count + 1).prefix { $0 != " " && $0 != "\t" }
                if value.count == tokenLength, value.utf8.allSatisfy(isTokenByte) { return String(value) }
            }
        }
        return nil
    }

    /// The `Set-Cookie` value that gives the browser `token` for `lifetime`.
    static func set(_ token: String, lifetime: Duration, secure: Bool) -> String {
        "\(name)=\(token); HttpOnly; SameSite=Strict; Path=/; Max-Age=\(lifetime.components.seconds)"
            + (secure ? "; Secure" : "")
    }

    /// The `Set-Cookie` value that removes the cookie.
    static func clear(secure: Bool) -> String {
        "\(name)=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0" + (secure ? "; Secure" : "")
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2D
            || byte == 0x5F
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Unpadded base64url.
    static func base64URL(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
            for position in 0...chunk.count {
                output.append(alphabet[Int(value >> (18 - 6 * UInt32(position)) & 0x3F)])
            }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}
