import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import Prometheus
import Synchronization
import Testing
import WharfConfig

@testable import AdminAPI

#if canImport(Glibc)
    import Glibc
#endif

/// The POST action that reads a body: loopback only, bounded, announced by Content-Length.
@Suite struct AdminServerBodyTests {
    static let path = "/api/v1/remote-config"

    static func request(
        _ method: HTTPRequest.Method = .post, path: String = path, contentLength: Int? = nil, body: [UInt8] = []
    ) -> Request {
        var fields = HTTPFields()
        if let contentLength { fields[.contentLength] = String(contentLength) }
        let head = HTTPRequest(method: method, scheme: "http", authority: "127.0.0.1", path: path, headerFields: fields)
        return Request(head: head, body: RequestBody(buffer: ByteBuffer(bytes: body)))
    }

    static func routes(_ provider: RemoteConfigProvider, limit: Int = 64) -> AdminRoutes {
        AdminRoutes(provider: provider, registry: testRegistry, maxRemoteConfigBytes: limit)
    }

    static let accepted = RemoteConfigApplyOutcome(result: "pending-confirmation", version: 7, message: "trying")

    @Test func theBodyReachesTheDaemonByteForByte() async {
        let provider = RemoteConfigProvider(outcome: Self.accepted)
        let body = Array("{\"version\": 7}\r\n".utf8)
        let response = await AdminServer.respond(
            to: Self.request(contentLength: body.count, body: body), routes: Self.routes(provider))
        #expect(response.status.code == 200)
        #expect(provider.received.withLock { $0 } == [body])
        #expect(response.headers[.connection] == nil)
    }

    @Test func notOnALoopbackListener() async {
        let provider = RemoteConfigProvider(outcome: Self.accepted)
        let response = await AdminServer.respond(
            to: Self.request(contentLength: 2, body: Array("{}".utf8)), routes: Self.routes(provider),
            actionsAllowed: false)
        #expect(response.status.code == 403)
        #expect(provider.received.withLock { $0 }.isEmpty)
    }

    @Test func onlyPost() async {
        let provider = RemoteConfigProvider(outcome: Self.accepted)
        let response = await AdminServer.respond(to: Self.request(.get), routes: Self.routes(provider))
        #expect(response.status.code == 405)
        #expect(response.headers[.allow] == "POST")
    }

    @Test func aBodyWithoutContentLengthIsRefused() async {
        let provider = RemoteConfigProvider(outcome: Self.accepted)
        let response = await AdminServer.respond(
            to: Self.request(body: Array("{}".utf8)), routes: Self.routes(provider))
        #expect(response.status.code == 411)
        #expect(response.headers[.connection] == "close")
        #expect(provider.received.withLock { $0 }.isEmpty)
    }

    @Test func aBodyAboveTheLimitIsRefusedUnreadAndCounted() async {
        let provider = RemoteConfigProvider(outcome: Self.accepted)
        let counter = "wharf_admin_requests_refused_total{reason=\"too-large\"}"
        let before = Self.value(of: counter)
        // Exactly the limit is taken; one byte more is not, and the body is not even looked at.
        let atLimit = await AdminServer.respond(
            to: Self.request(contentLength: 64, body: [UInt8](repeating: 0x20, count: 64)),
            routes: Self.routes(provider))
        #expect(atLimit.status.code == 200)
        let response = await AdminServer.respond(
            to: Self.request(contentLength: 65, body: [UInt8](repeating: 0x20, count: 65)),
            routes: Self.routes(provider))
        #expect(response.status.code == 413)
        #expect(response.headers[.connection] == "close")
        #expect(provider.received.withLock { $0.count } == 1)
        #expect(Self.value(of: counter) == before + 1)
    }

    /// The value of one series on /metrics, 0 when it is not there yet.
    static func value(of series: String) -> Int {
        for line in testRegistry.emitToString().split(separator: "\n") where line.hasPrefix(series + " ") {
            return Int(line.dropFirst(series.count + 1)) ?? -1
        }
        return 0
    }

    /// Over a real socket: a 413 answers before the body is sent, and the connection ends with it
    /// (not drained until the client gives up).
    @Test func overHTTPTheRefusalEndsTheConnection() async throws {
        let port = freePort()
        let bound = Mutex<SocketAddress?>(nil)
        let provider = RemoteConfigProvider(outcome: Self.accepted)
        let server = AdminServer(
            routes: Self.routes(provider, limit: 1024), configuration: AdminConfig(port: port),
            logger: Logger(label: "test.admin"), onBound: { address in bound.withLock { $0 = address } })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            for _ in 0..<200 where bound.withLock({ $0 }) == nil {
                try await Task.sleep(for: .milliseconds(10))
            }
            let head =
                "POST \(Self.path) HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Wharf-Action: 1\r\nContent-Length: 2097152\r\n\r\n"
            let refused = try #require(await rawExchange(port: port, request: Array(head.utf8)))
            #expect(refused.text.hasPrefix("HTTP/1.1 413"))
            #expect(refused.endedByServer)

            let body = Array("{\"gateway\":\"gw-test\"}".utf8)
            let post =
                "POST \(Self.path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.count)\r\n"
                + "X-Wharf-Action: 1\r\nConnection: close\r\n\r\n"
            let taken = try #require(await rawExchange(port: port, request: Array(post.utf8) + body))
            #expect(taken.text.hasPrefix("HTTP/1.1 200"))
            #expect(taken.text.contains("\"result\" : \"pending-confirmation\""))
            #expect(provider.received.withLock { $0 } == [body])
            group.cancelAll()
        }
    }
}

/// What a raw exchange got: the text, and whether the server closed the connection (rather than the
/// read timing out).
struct RawAnswer {
    var text: String
    var endedByServer: Bool
}

/// Sends `request` to 127.0.0.1:port and reads until the server closes or 5 s pass without data.
func rawExchange(port: Int, request: [UInt8]) async -> RawAnswer? {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(returning: blockingRawExchange(port: port, request: request))
        }
    }
}

func blockingRawExchange(port: Int, request: [UInt8]) -> RawAnswer? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    // Long enough for a loaded machine; a server that never closes still fails the test, only later.
    var timeout = timeval(tv_sec: 20, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    guard let address = try? SocketAddress(ipAddress: "127.0.0.1", port: port) else { return nil }
    let connected = address.withSockAddr { connect(fd, $0, socklen_t($1)) }
    guard connected == 0 else { return nil }
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    var response: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count == 0 { return RawAnswer(text: String(decoding: response, as: UTF8.self), endedByServer: true) }
        guard count > 0 else {
            // ECONNRESET also means the server ended it; a timeout (EAGAIN) means it did not.
            let reset = errno == ECONNRESET
            return RawAnswer(text: String(decoding: response, as: UTF8.self), endedByServer: reset)
        }
        response.append(contentsOf: chunk[0..<count])
    }
}
