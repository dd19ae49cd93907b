#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A minimal blocking HTTP/1.1 client (GET, and POST with a body) over a plain TCP socket, enough
/// to talk to wharfd's admin API on this machine without an HTTP library.
struct AdminClient {
    /// A failure to get an answer, with the system's reason.
    struct Failure: Error, CustomStringConvertible {
        /// True when nothing listens there (the daemon is not running, or its admin API is off).
        var notListening: Bool
        var description: String
    }

    /// An HTTP answer.
    struct Reply {
        var status: Int
        var body: String
    }

    var host: String
    var port: Int
    var timeoutSeconds = 5

    /// `GET path`, reading the whole answer.
    func get(_ path: String) throws(Failure) -> Reply {
        try request("GET", path)
    }

    /// `POST path` with `body` (none by default), reading the whole answer.
    func post(_ path: String, body: [UInt8] = [], contentType: String? = nil) throws(Failure) -> Reply {
        try request("POST", path, body: body, contentType: contentType)
    }

    private func request(
        _ method: String, _ path: String, body: [UInt8] = [], contentType: String? = nil
    ) throws(Failure) -> Reply {
        let fd = try connect()
        defer { close(fd) }
        let hostHeader = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        // Every action needs X-Wharf-Action: 1 (which a cross-site form in a browser cannot send).
        var headers = method == "POST" ? "Content-Length: \(body.count)\r\nX-Wharf-Action: 1\r\n" : ""
        if let contentType { headers += "Content-Type: \(contentType)\r\n" }
        let request =
            "\(method) \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: wharfctl\r\n\(headers)Connection: close\r\n\r\n"
        var bytes = (Array(request.utf8) + body)[...]
        var sendFailure: Failure?
        while !bytes.isEmpty {
            let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else {
                // The server may have answered and closed before taking the whole body (413): read that.
                sendFailure = Failure(notListening: false, description: "cannot send: \(Self.reason())")
                break
            }
            bytes = bytes.dropFirst(sent)
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            guard count > 0 else {
                if let sendFailure, response.isEmpty { throw sendFailure }
                throw Failure(
                    notListening: false, description: "no answer within \(timeoutSeconds) s: \(Self.reason())")
            }
            response.append(contentsOf: chunk[0..<count])
        }
        if let sendFailure, response.isEmpty { throw sendFailure }
        return try Self.parse(response)
    }

    /// Splits an HTTP/1.x response into status and body (de-chunking if needed).
    static func parse(_ response: [UInt8]) throws(Failure) -> Reply {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = response.firstRange(of: separator) else {
            throw Failure(notListening: false, description: "not an HTTP answer")
        }
        let head = String(decoding: response[..<end.lowerBound], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/"), let status = Int(statusParts[1]) else {
            throw Failure(notListening: false, description: "not an HTTP answer")
        }
        var body = Array(response[end.upperBound...])
        let chunked = lines.dropFirst().contains {
            $0.lowercased().hasPrefix("transfer-encoding:") && $0.lowercased().contains("chunked")
        }
        if chunked { body = dechunk(body) }
        return Reply(status: status, body: String(decoding: body, as: UTF8.self))
    }

    static func dechunk(_ data: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        var index = data.startIndex
        let crlf: [UInt8] = [13, 10]
        while let lineEnd = data[index...].firstRange(of: crlf) {
            let sizeText = String(decoding: data[index..<lineEnd.lowerBound], as: UTF8.self)
            guard let size = Int(sizeText.split(separator: ";").first ?? "", radix: 16), size > 0 else { break }
            let start = lineEnd.upperBound
            let stop = min(start + size, data.endIndex)
            output.append(contentsOf: data[start..<stop])
            index = min(stop + 2, data.endIndex)
        }
        return output
    }

    private func connect() throws(Failure) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw Failure(
                notListening: false, description: "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastError: Int32 = ECONNREFUSED
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            entry = current.pointee.ai_next
            let fd = socket(current.pointee.ai_family, current.pointee.ai_socktype, current.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            // On Linux the send timeout also bounds connect().
            var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            if Glibc.connect(fd, current.pointee.ai_addr, current.pointee.ai_addrlen) == 0 { return fd }
            lastError = errno
            close(fd)
        }
        throw Failure(
            notListening: lastError == ECONNREFUSED,
            description: String(cString: strerror(lastError))
        )
    }

    static func reason() -> String { String(cString: strerror(errno)) }
}
