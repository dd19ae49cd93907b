public import Hummingbird
public import Logging
public import NIOCore
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

    /// Creates the server; `onBound` runs once it listens, with its address. It runs on `group`
    /// (the daemon's, so that it starts no threads of its own), or on NIO's shared group when
    /// `nil`.
    public init(
        routes: AdminRoutes,
        configuration: AdminConfig,
        logger: Logger,
        group: (any EventLoopGroup)? = nil,
        onBound: @escaping @Sendable (SocketAddress?) async -> Void = { _ in }
    ) {
        self.routes = routes
        self.configuration = configuration
        self.logger = logger
        self.group = group
        self.onBound = onBound
    }

    /// The name in service lifecycle logs (the default would print the whole configuration).
    public var description: String { "AdminServer(\(configuration.listen))" }

    /// Listens and answers until graceful shutdown.
    public func run() async throws {
        let router = Router()
        let routes = self.routes
        for path in AdminRoutes.paths {
            router.get(RouterPath(path)) { _, _ in Self.response(await routes.get(path)) }
        }
        let logger = self.logger
        let onBound = self.onBound
        let listen = configuration.listen
        let application = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
            onServerRunning: { channel in
                logger.notice("admin API ready", metadata: ["admin.address": "\(listen)"])
                await onBound(channel.localAddress)
            },
            eventLoopGroupProvider: group.map { .shared($0) } ?? .singleton,
            logger: logger
        )
        do {
            try await application.run()
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
