import HTTPTypes
import HummingbirdCore
public import Logging
import Metrics
public import NIOCore
import NIOPosix
public import NIOSSL
public import ServiceLifecycle
public import WharfConfig

/// The admin HTTP API as a service: serves ``AdminRoutes`` on the `admin.listen` address until
/// graceful shutdown. If it cannot listen, it logs why and the daemon runs on without it.
public struct AdminServer: Service, CustomStringConvertible {
    let routes: AdminRoutes
    let configuration: AdminConfig
    let logger: Logger
    let group: (any EventLoopGroup)?
    let onBound: @Sendable (SocketAddress?) async -> Void
    /// The open event streams (`GET /api/v1/events`).
    let events: EventHub
    /// Who may do what, and the login.
    let access: AdminAccess
    /// HTTPS (`admin.tls`), already checked; plain HTTP stays served to trusted peers.
    let tls: TLSConfiguration?

    /// Creates the server; `onBound` runs once it listens, with its address. It runs on `group`
    /// (the daemon's, so that it starts no threads of its own), or on NIO's shared group when
    /// `nil`. Without `access`, nobody can log in (peers that are not trusted get nothing but
    /// `/healthz` and the page); `tls` is the server side of `admin.tls`.
    public init(
        routes: AdminRoutes,
        configuration: AdminConfig,
        logger: Logger,
        group: (any EventLoopGroup)? = nil,
        access: AdminAccess? = nil,
        tls: TLSConfiguration? = nil,
        onBound: @escaping @Sendable (SocketAddress?) async -> Void = { _ in }
    ) {
        self.routes = routes
        self.configuration = configuration
        self.logger = logger
        self.group = group
        self.onBound = onBound
        self.events = EventHub(limit: configuration.maxEventStreams)
        self.access =
            access
            ?? AdminAccess(
                settings: .init(configuration), logger: logger,
                check: { _, _ in .unavailable("no password file is configured") })
        self.tls = tls
    }

    /// Admin connections served at once besides the event streams; more wait in the listen
    /// backlog. Operators' tools and a Prometheus scraper need a handful, and each takes a file
    /// descriptor.
    static let maxConnections = 16

    /// Connections served at once: ``maxConnections`` plus one per event stream, so that open
    /// streams never keep `wharfctl` out.
    var connectionLimit: Int { Self.maxConnections + events.limit }

    /// The name in service lifecycle logs (the default would print the whole configuration).
    public var description: String { "AdminServer(\(configuration.listen))" }

    /// Listens and answers until graceful shutdown.
    ///
    /// Built on HummingbirdCore's HTTP/1.1 server without Hummingbird's application and router:
    /// the API is a handful of fixed GET paths, and the application's date cache would keep a
    /// Foundation calendar (and ICU's time-zone data) in memory and wake the daemon every second.
    public func run() async throws {
        let routes = self.routes
        let logger = self.logger
        let onBound = self.onBound
        let listen = configuration.listen
        let events = self.events
        let context = Context(routes: routes, events: events, access: access, logger: logger, tls: tls != nil)
        do {
            var builder = HTTPServerBuilder.http1()
            if let tls {
                let sslContext = try NIOSSLContext(configuration: tls)
                builder = HTTPServerBuilder { responder in
                    OptionalTLSChannel(base: HTTP1Channel(responder: responder), context: sslContext)
                }
            }
            let server = try builder.buildServer(
                configuration: ServerConfiguration(
                    address: .hostname(configuration.host, port: configuration.port),
                    // Its descriptors come out of the reserve the MQTT listeners leave free.
                    availableConnectionsDelegate: MaximumAvailableConnections(connectionLimit, logger: logger)
                ),
                eventLoopGroup: group ?? MultiThreadedEventLoopGroup.singleton,
                logger: logger,
                responder: { request, writer, channel in
                    try await Self.serve(request, writer: writer, channel: channel, context: context)
                },
                onServerRunning: { channel in
                    logger.notice("admin API ready", metadata: ["admin.address": "\(listen)"])
                    await onBound(channel.localAddress)
                }
            )
            // Event streams never end by themselves: graceful shutdown ends them, so that the
            // server's own shutdown, which waits for answers in progress, can finish.
            try await withGracefulShutdownHandler {
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask {
                        await events.run(logs: routes.logs, history: routes.history) { await routes.compactStatus() }
                    }
                    try await server.run()
                    group.cancelAll()
                }
            } onGracefulShutdown: {
                events.close()
            }
        } catch {
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            // MQTT service matters more than the admin API: keep running without it.
            logger.error(
                "admin API not available; the daemon runs on without it",
                metadata: ["admin.address": "\(listen)", "error": "\(error)"]
            )
            try? await gracefulShutdown()
        }
    }

    /// The answer to one admitted request (see ``AdminAccess``): the route's reply for GET (and
    /// HEAD) on a known path, POST on an action path (unless `actionsAllowed` is false), 404 on an
    /// unknown one, 405 for other methods. An action
    /// that takes a body reads it only after those checks, and only when its `Content-Length` is
    /// within the action's limit (411 without one, 413 above it; both end the connection).
    static func respond(to request: Request, routes: AdminRoutes, actionsAllowed: Bool = true) async -> Response {
        var response: Response
        let path = request.uri.path
        if AdminRoutes.isActionPath(path) {
            if request.method != .post {
                response = Self.response(
                    AdminRoutes.Reply(status: 405, contentType: "text/plain", body: "only POST is served here\n"))
                response.headers[.allow] = "POST"
            } else if !actionsAllowed {
                response = Self.response(
                    AdminRoutes.Reply(
                        status: 403, contentType: "text/plain",
                        body: "actions are served only when the admin API listens on a loopback address\n"))
            } else if let limit = routes.bodyLimit(forActionPath: path) {
                response = await Self.respondWithBody(to: request, path: path, limit: limit, routes: routes)
            } else {
                response = Self.response(await routes.post(path))
            }
        } else if AdminRoutes.isPagePath(path) {
            // The page (`/`, `/ui/...`): embedded files with their own caching and security headers.
            response = Self.pageResponse(to: request, path: path)
        } else if !AdminRoutes.paths.contains(path) {
            response = Self.response(AdminRoutes.Reply(status: 404, contentType: "text/plain", body: "not found\n"))
        } else if request.method == .get || request.method == .head {
            response = Self.response(await routes.get(path, query: request.uri.query))
        } else {
            response = Self.response(
                AdminRoutes.Reply(status: 405, contentType: "text/plain", body: "only GET is served\n"))
            response.headers[.allow] = "GET, HEAD"
        }
        if request.method == .head { response.body = ResponseBody() }
        response.headers[.date] = HTTPDate.format(secondsSinceEpoch: Int64(time(nil)))
        return response
    }

    /// POST on an action that reads a body of at most `limit` bytes, announced by `Content-Length`.
    static func respondWithBody(to request: Request, path: String, limit: Int, routes: AdminRoutes) async -> Response {
        guard let lengthText = request.headers[.contentLength], let length = Int(lengthText), length >= 0 else {
            return refusal(411, "length-required", "a Content-Length header is required (no chunked bodies)\n")
        }
        guard length <= limit else {
            return refusal(413, "too-large", "the body is \(length) bytes; at most \(limit) are taken here\n")
        }
        do {
            // The HTTP decoder ends the body at Content-Length; the bound is a second line of defence.
            let buffer = try await request.body.collect(upTo: limit)
            return Self.response(await routes.post(path, body: Array(buffer.readableBytesView)))
        } catch {
            return refusal(400, "unreadable", "the body could not be read: \(error)\n")
        }
    }

    /// A refusal of a request whose body is not read: counted, and the connection ends after it.
    private static func refusal(_ status: Int, _ reason: String, _ body: String) -> Response {
        Counter(label: "wharf_admin_requests_refused_total", dimensions: [("reason", reason)]).increment()
        var response = Self.response(AdminRoutes.Reply(status: status, contentType: "text/plain", body: body))
        response.headers[.connection] = "close"
        return response
    }

    /// Whether `host` names only this machine.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    static func response(_ reply: AdminRoutes.Reply) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = reply.contentType
        headers[.cacheControl] = "no-store"
        return Response(
            status: HTTPResponse.Status(code: reply.status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: reply.body))
        )
    }
}
