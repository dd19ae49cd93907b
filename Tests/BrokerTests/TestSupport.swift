import Logging
import MQTTCodec
import NIOCore
import NIOEmbedded
import Synchronization
import WharfAuth
import WharfConfig
import WharfCore

@testable import Broker

/// A clock the test moves by hand.
final class ManualClock: WharfClock {
    private let nanoseconds = Atomic<UInt64>(1_000_000_000)

    func now() -> UInt64 { nanoseconds.load(ordering: .relaxed) }

    func advance(seconds: UInt64) {
        nanoseconds.add(seconds * 1_000_000_000, ordering: .relaxed)
    }
}

/// Collects what an in-process subscriber receives.
final class Inbox: Sendable {
    private let messages = Mutex<[Message]>([])

    func append(_ message: Message) { messages.withLock { $0.append(message) } }
    var topics: [String] { messages.withLock { $0.map(\.topic) } }
    var payloads: [String] { messages.withLock { $0.map { String(buffer: $0.payload) } } }
}

/// Runs password checks on the caller's thread, answering at once.
struct InlineCredentialChecks: CredentialCheckExecutor {
    func run(
        _ check: @escaping @Sendable () -> AccessControl.Decision,
        answeringOn eventLoop: any EventLoop
    ) -> EventLoopFuture<AccessControl.Decision> {
        eventLoop.makeSucceededFuture(check())
    }
}

/// A broker with a manual clock and one shared embedded event loop for its test connections.
struct BrokerHarness {
    let clock = ManualClock()
    let loop = EmbeddedEventLoop()
    let broker: MQTTBroker

    init(store: (any SessionStore)? = nil, _ configure: (inout BrokerConfig) -> Void = { _ in }) {
        var config = BrokerConfig()
        configure(&config)
        broker = MQTTBroker(config: config, version: "test", logger: Logger(label: "test"), clock: clock, store: store)
        // Password checks answer at once, so tests see CONNACK without waiting for a thread.
        broker.flowControl.credentialChecks.use(InlineCredentialChecks())
    }

    /// A new client connection with Wharf's handler in its pipeline, already active.
    func connection() throws -> TestConnection {
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandler(
            MQTTConnectionHandler(broker: broker, listener: "test", logger: Logger(label: "test")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return TestConnection(channel: channel, loop: loop)
    }
}

/// One side of an embedded MQTT connection, speaking packets.
final class TestConnection {
    let channel: EmbeddedChannel
    let loop: EmbeddedEventLoop
    var version: MQTTProtocolVersion = .v5
    /// Packets read from the wire but not yet handed to the test.
    private var backlog: [MQTTPacket] = []

    init(channel: EmbeddedChannel, loop: EmbeddedEventLoop) {
        self.channel = channel
        self.loop = loop
    }

    func send(_ packet: MQTTPacket) throws {
        var buffer = channel.allocator.buffer(capacity: 64)
        try packet.encode(into: &buffer, version: version)
        try channel.writeInbound(buffer)
        loop.run()
    }

    /// Every packet the broker has written to this connection so far.
    func received() throws -> [MQTTPacket] {
        loop.run()
        var bytes = channel.allocator.buffer(capacity: 64)
        while var chunk = try channel.readOutbound(as: ByteBuffer.self) {
            bytes.writeBuffer(&chunk)
        }
        var packets = backlog
        backlog.removeAll()
        while let packet = try MQTTPacket.decode(from: &bytes, version: version, maxPacketSize: 1 << 20) {
            packets.append(packet)
        }
        return packets
    }

    var isActive: Bool { channel.isActive }

    func connect(
        _ clientIdentifier: String,
        cleanStart: Bool = true,
        keepAlive: UInt16 = 0,
        sessionExpiry: UInt32? = nil,
        will: Will? = nil,
        properties: MQTTProperties = MQTTProperties()
    ) throws -> ConnAckPacket? {
        var properties = properties
        if let sessionExpiry { properties.sessionExpiryInterval = sessionExpiry }
        try send(
            .connect(
                ConnectPacket(
                    protocolVersion: version,
                    clientIdentifier: clientIdentifier,
                    cleanStart: cleanStart,
                    keepAlive: keepAlive,
                    will: will,
                    properties: properties
                )
            )
        )
        var packets = try received()
        guard let index = packets.firstIndex(where: { if case .connAck = $0 { true } else { false } }),
            case .connAck(let ack) = packets.remove(at: index)
        else { return nil }
        backlog = packets
        return ack
    }

    func subscribe(_ filter: String, qos: QoS, identifier: UInt16 = 1) throws {
        try send(
            .subscribe(
                SubscribePacket(
                    packetIdentifier: identifier,
                    subscriptions: [
                        TopicSubscription(
                            topicFilter: filter,
                            options: SubscriptionOptions(
                                qos: qos, noLocal: false, retainAsPublished: false, retainHandling: 0)
                        )
                    ]
                )
            )
        )
    }
}
