public import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the admin API knows of the machine a request comes from: whether it is this machine, the
/// key its failed logins are counted under, and how logs name it.
public struct PeerIdentity: Sendable, Equatable {
    /// Whether the peer is this machine (127.0.0.0/8, ::1, an IPv4-mapped 127.x, a Unix socket).
    public var isLoopback: Bool
    /// Failed logins are counted per IPv4 address and per IPv6 /64 (what one host usually holds).
    public var throttleKey: String
    /// The address for logs, such as `192.168.1.20` or `2001:db8::7`.
    public var text: String

    /// The identity of `address`; an unknown address counts as a remote one.
    public init(_ address: SocketAddress?) {
        switch address {
        case .v4?:
            let text = address?.ipAddress ?? "?"
            self.init(isLoopback: text.hasPrefix("127."), key: text, text: text)
        case .v6?:
            let text = address?.ipAddress ?? "?"
            self.init(ipv6: Self.bytes(ofIPv6: text), text: text)
        case .unixDomainSocket?:
            self.init(isLoopback: true, key: "unix", text: "unix")
        case nil:
            self.init(isLoopback: false, key: "unknown", text: "unknown")
        }
    }

    /// An identity from the 16 bytes of an IPv6 address.
    init(ipv6 bytes: [UInt8], text: String) {
        let mappedPrefix: [UInt8] = Array(repeating: 0, count: 10) + [0xFF, 0xFF]
        if bytes.count == 16, Array(bytes[0..<12]) == mappedPrefix {
            let v4 = bytes[12...].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let dotted = bytes[12...].map(String.init).joined(separator: ".")
            self.init(isLoopback: Self.isLoopbackIPv4(v4), key: dotted, text: dotted)
            return
        }
        let loopback = bytes == Array(repeating: 0, count: 15) + [1]
        let prefix = bytes.prefix(8).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        self.init(isLoopback: loopback, key: "\(prefix)/64", text: text)
    }

    /// An identity as given (tests).
    init(isLoopback: Bool, key: String, text: String) {
        self.isLoopback = isLoopback
        self.throttleKey = key
        self.text = text
    }

    static func isLoopbackIPv4(_ address: UInt32) -> Bool {
        address >> 24 == 127
    }

    /// The 16 bytes of an IPv6 address in text; all zero when it is not one.
    static func bytes(ofIPv6 text: String) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 16)
        let parsed = bytes.withUnsafeMutableBytes { inet_pton(AF_INET6, text, $0.baseAddress) }
        return parsed == 1 ? bytes : [UInt8](repeating: 0, count: 16)
    }
}
