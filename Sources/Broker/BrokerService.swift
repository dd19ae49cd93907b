public import Logging
import MQTTCodec
public import NIOCore
import NIOPosix
import NIOSSL
public import ServiceLifecycle
import Synchronization
import WharfConfig
import WharfCore

/// Runs the broker's MQTT listeners and its housekeeping (session expiry, delayed wills,
/// `$SYS`) until graceful shutdown, then disconnects clients with reason 0x8B.
public struct BrokerService: Service {
    /// The broker the listeners feed.
    public let broker: MQTTBroker
    private let group: any EventLoopGroup
    private let listeners: [ListenerConfig]
    private let onBound: @Sendable ([SocketAddress]) -> Void
    private let logger: Logger

    /// Creates the service; `onBound` runs once every listener is bound, with their addresses.
    public init(
        broker: MQTTBroker,
        listeners: [ListenerConfig],
        group: any EventLoopGroup,
        logger: Logger,
        onBound: @escaping @Sendable ([SocketAddress]) -> Void = { _ in }
    ) {
        self.broker = broker
        self.listeners = listeners
        self.group = group
        self.logger = logger
        self.onBound = onBound
    }

    /// Binds the listeners, serves until graceful shutdown, then closes everything.
    public func run() async throws {
        applyDescriptorBudget()
        var channels: [any Channel] = []
        do {
            for listener in listeners {
                let channel = try await bind(listener)
                channels.append(channel)
                logger.notice(
                    "MQTT listener ready",
                    metadata: [
                        "listener": "\(listener.name)", "address": "\(channel.localAddress.map { "\($0)" } ?? "?")",
                    ]
                )
            }
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
        onBound(channels.compactMap(\.localAddress))

        try? await cancelWhenGracefulShutdown {
            try await housekeeping()
        }

        logger.notice("broker shutting down")
        for channel in channels { try? await channel.close() }
        broker.disconnectAll()
    }

    private func bind(_ listener: ListenerConfig) async throws -> any Channel {
        let broker = self.broker
        let logger = self.logger
        let outbound = broker.config.flowControl.maxOutboundBytes
        let tlsContext = try listener.tls.map { tls throws(BrokerError) in
            try ListenerTLS.makeContext(tls, listener: listener.name)
        }
        let useIdentity = listener.useIdentityAsUsername
        let handshakeLog = TLSHandshakeLog(listener: listener.name, logger: logger)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        AcceptGuard(listener: listener.name, flowControl: broker.flowControl, logger: logger)
                    )
                }
            }
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // Past the high mark a client counts as slow (see MQTTConnectionHandler+FlowControl).
            .childChannelOption(.writeBufferWaterMark, value: .init(low: outbound / 2, high: outbound))
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelOption(.recvAllocator, value: Self.receiveBuffers(tls: tlsContext != nil))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tlsContext {
                        // The handshake runs under the CONNECT timeout that starts with the connection
                        // (MQTTConnectionHandler.connectTimeout, ConnectDeadline on WebSocket listeners),
                        // so a client that stalls in it is closed.
                        try sync.addHandler(NIOSSLServerHandler(context: tlsContext))
                        try sync.addHandler(TLSHandshakeObserver(log: handshakeLog))
                    }
                    let peerIdentity: @Sendable (any Channel) -> MQTTConnectionHandler.PeerIdentity? = { channel in
                        guard useIdentity else { return nil }
                        return { Self.commonName(of: channel) }
                    }
                    switch listener.transport {
                    case .mqtt:
                        let handler = MQTTConnectionHandler(
                            broker: broker, listener: listener.name, logger: logger,
                            peerIdentity: peerIdentity(channel))
                        try sync.addHandler(handler)
                    case .websocket:
                        try Self.addWebSocketUpgrade(
                            channel: channel, broker: broker, listener: listener, logger: logger,
                            peerIdentity: peerIdentity)
                    }
                }
            }
        do {
            return try await bootstrap.bind(host: listener.bind, port: listener.port).get()
        } catch {
            throw BrokerError(
                "cannot listen on \(listener.bind):\(listener.port) (listener '\(listener.name)'): \(error)"
            )
        }
    }

    /// How a connection sizes the buffer it reads into. NIO keeps that buffer between reads, for
    /// the life of the connection: at NIO's first size, 2048 bytes, it was a third of what an idle
    /// client cost. A plain connection starts at 64 bytes (a CONNECT and a PINGREQ fit) and the
    /// buffer doubles with each read that fills it, up to 64 KiB, so a busy publisher reaches
    /// full-size reads after a few of them. TLS keeps NIO's sizes: a TLS connection holds far more
    /// in the TLS library, and its first reads are handshake records.
    static func receiveBuffers(tls: Bool) -> AdaptiveRecvByteBufferAllocator {
        tls
            ? AdaptiveRecvByteBufferAllocator()
            : AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 64, maximum: 65536)
    }

    /// The subject CN of the client's verified certificate on `channel`; `nil` without one or
    /// without a usable CN. Called on the channel's event loop.
    private static func commonName(of channel: any Channel) -> String? {
        let handler = try? channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
        guard let der = try? handler?.peerCertificate?.toDERBytes() else { return nil }
        return X509Subject.commonName(der: der)
    }

    /// Sizes the listeners' ``DescriptorBudget`` from the open-file limit and what is open now.
    private func applyDescriptorBudget() {
        guard let limit = DescriptorLimit.current()?.soft, limit < Int.max else { return }
        let budget = DescriptorBudget(limit: limit, inUse: DescriptorLimit.openCount() ?? 32)
        broker.flowControl.socketBudget.store(budget.connections, ordering: .relaxed)
        let maxConnections = broker.config.maxConnections
        let metadata: Logger.Metadata = [
            "limit.open_files": "\(limit)", "limit.connections": "\(budget.connections)",
            "limit.reserve": "\(budget.reserve)",
        ]
        if maxConnections > 0, budget.connections < maxConnections {
            logger.warning(
                "the open-file limit allows fewer client connections than max_connections; raise LimitNOFILE",
                metadata: metadata.merging(["broker.max_connections": "\(maxConnections)"]) { $1 }
            )
        } else {
            logger.info("client connections fit in the open-file limit", metadata: metadata)
        }
    }

    private func housekeeping() async throws {
        var published: [String: String] = [:]
        var sinceSys = Duration.zero
        let interval = broker.config.sysInterval
        if interval > .zero {
            published = broker.publishSystemTopics(previous: published)
        }
        while true {
            try await Task.sleep(for: .seconds(1))
            broker.sweep()
            sinceSys += .seconds(1)
            if interval > .zero, sinceSys >= interval {
                sinceSys = .zero
                published = broker.publishSystemTopics(previous: published)
            }
        }
    }
}

/// A broker failure an operator must act on (for example a port already in use).
public struct BrokerError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, in a sentence that names the listener or setting.
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
