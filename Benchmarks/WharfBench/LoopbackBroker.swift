import NIOCore
import NIOPosix

/// A minimal MQTT broker in the generator's process, used to measure the generator alone.
///
/// It does only what the benchmark needs: it accepts every CONNECT, grants every SUBSCRIBE,
/// acknowledges QoS 1 PUBLISHes at once and forwards each PUBLISH's bytes unchanged (same QoS and
/// packet identifier) to every matching subscriber. It ignores the subscribers' PUBACKs and has
/// no sessions, queues, retained messages or limits: the cheapest forwarding possible, so that
/// the run's rate is bounded by the generator.
final class LoopbackBroker: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let server: any Channel

    /// The port it listens on, on 127.0.0.1.
    let port: Int

    private init(group: MultiThreadedEventLoopGroup, server: any Channel, port: Int) {
        self.group = group
        self.server = server
        self.port = port
    }

    /// Starts a broker on its own event loop thread, on 127.0.0.1 and a free port.
    static func start() async throws -> LoopbackBroker {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let router = try await loop.submit { NIOLoopBound(LoopbackRouter(), eventLoop: loop) }.get()
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(
                .recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16384, maximum: 1 << 20)
            )
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(LoopbackConnection(router: router.value))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        guard let port = server.localAddress?.port else {
            try? await group.shutdownGracefully()
            throw BenchError("loopback broker: no local port")
        }
        return LoopbackBroker(group: group, server: server, port: port)
    }

    /// CPU seconds its thread has used so far.
    func cpuSeconds() async throws -> Double {
        try await group.next().submit { CPUTime.currentThread() }.get()
    }

    /// Closes the listener and stops the thread.
    func stop() async {
        try? await server.close()
        try? await group.shutdownGracefully()
    }
}
