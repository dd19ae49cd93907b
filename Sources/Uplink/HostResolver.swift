import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns an endpoint's host into the addresses to try, in the resolver's order (a cloud name that
/// resolves to several nodes gets each of them tried in turn). Tests replace it.
struct HostResolver: Sendable {
    /// Resolves `host` for `port`; throws an `UplinkError` naming the host when it cannot.
    var resolve: @Sendable (_ host: String, _ port: Int) async throws -> [SocketAddress]

    /// IP literals as they are, names through getaddrinfo on a thread of their own (it blocks).
    static let system = HostResolver { host, port in
        if let address = try? SocketAddress(ipAddress: host, port: port) { return [address] }
        let outcome = await onDedicatedThread { HostResolver.lookUp(host, port: port) }
        switch outcome {
        case .success(let addresses): return addresses
        case .failure(let reason):
            throw UplinkError(.connectFailed, "cannot resolve '\(host)': \(reason.message)")
        }
    }

    /// Why getaddrinfo failed, as the resolver words it.
    struct LookupFailure: Error, Sendable {
        var message: String
    }

    /// Every TCP address of `host`, in getaddrinfo's order, each once.
    static func lookUp(_ host: String, port: Int) -> Result<[SocketAddress], LookupFailure> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0 else {
            let message =
                status == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(status))
            return .failure(LookupFailure(message: message))
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var entry = list
        while let info = entry?.pointee {
            entry = info.ai_next
            guard let pointer = info.ai_addr else { continue }
            let address: SocketAddress
            switch Int32(info.ai_family) {
            case AF_INET:
                address = pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    SocketAddress($0.pointee, host: host)
                }
            case AF_INET6:
                address = pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    SocketAddress($0.pointee, host: host)
                }
            default:
                continue
            }
            if !addresses.contains(address) { addresses.append(address) }
        }
        if addresses.isEmpty { return .failure(LookupFailure(message: "no IPv4 or IPv6 address")) }
        return .success(addresses)
    }
}

/// Opens a connection to the first of `addresses` that accepts, trying them in order; throws the last
/// address's error when none does (and a plain error when there are none).
func openFirst<Output: Sendable>(
    _ addresses: [SocketAddress],
    _ open: (SocketAddress) async throws -> Output
) async throws -> Output {
    var lastError: (any Error)?
    for address in addresses {
        try Task.checkCancellation()
        do {
            return try await open(address)
        } catch {
            lastError = error
        }
    }
    throw lastError ?? UplinkError(.connectFailed, "no address to connect to")
}
