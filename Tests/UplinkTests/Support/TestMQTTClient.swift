import Foundation
import MQTTCodec
import NIOCore
import NIOPosix
import Synchronization
import WharfCore

/// A plain MQTT client on Wharf's codec, for watching and feeding the broker in tests.
/// It acknowledges QoS 1 and 2 deliveries itself and records every packet it receives.
final class TestMQTTClient: Sendable {
    let channel: any Channel
    let inbox: TestInbox
    let version: MQTTProtocolVersion
    private let nextIdentifier = Atomic<UInt16>(1)

    private init(channel: any Channel, inbox: TestInbox, version: MQTTProtocolVersion) {
        self.channel = channel
        self.inbox = inbox
        self.version = version
    }

    /// Connects and waits for CONNACK; `inbox` may be shared with an earlier connection of the same client.
    static func connect(
        port: Int,
        clientIdentifier: String,
        version: MQTTProtocolVersion = .v5,
        cleanStart: Bool = true,
        sessionExpiry: UInt32 = 0,
        inbox: TestInbox = TestInbox()
    ) async throws -> TestMQTTClient {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(ByteToMessageHandler(MQTTPacketDecoder(version: version)))
                    try pipeline.addHandler(MessageToByteHandler(MQTTPacketEncoder(version: version)))
                    try pipeline.addHandler(TestClientHandler(inbox: inbox))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let client = TestMQTTClient(channel: channel, inbox: inbox, version: version)
        var properties = MQTTProperties()
        if version == .v5 && sessionExpiry > 0 { properties.sessionExpiryInterval = sessionExpiry }
        let before = inbox.count { if case .connAck = $0 { true } else { false } }
        try await channel.writeAndFlush(
            MQTTPacket.connect(
                ConnectPacket(
                    protocolVersion: version, clientIdentifier: clientIdentifier, cleanStart: cleanStart,
                    properties: properties)))
        try await client.waitFor("CONNACK") { $0.count { if case .connAck = $0 { true } else { false } } > before }
        return client
    }

    /// Subscribes and waits for SUBACK.
    func subscribe(_ filter: String, qos: QoS = .atLeastOnce) async throws {
        let identifier = nextIdentifier.add(1, ordering: .relaxed).newValue
        let subscribe = SubscribePacket(
            packetIdentifier: identifier,
            subscriptions: [TopicSubscription(topicFilter: filter, options: SubscriptionOptions(qos: qos))])
        try await channel.writeAndFlush(MQTTPacket.subscribe(subscribe))
        try await waitFor("SUBACK") { inbox in
            inbox.count { if case .subAck(let ack) = $0 { ack.packetIdentifier == identifier } else { false } } > 0
        }
    }

    /// Publishes; for QoS 1 waits for PUBACK.
    func publish(_ topic: String, _ payload: String, qos: QoS = .atLeastOnce, retain: Bool = false) async throws {
        let identifier = qos == .atMostOnce ? nil : nextIdentifier.add(1, ordering: .relaxed).newValue
        let packet = PublishPacket(
            topic: topic, payload: ByteBuffer(string: payload), qos: qos, retain: retain, packetIdentifier: identifier)
        try await channel.writeAndFlush(MQTTPacket.publish(packet))
        guard let identifier, qos == .atLeastOnce else { return }
        try await waitFor("PUBACK") { inbox in
            inbox.count { if case .pubAck(let ack) = $0 { ack.packetIdentifier == identifier } else { false } } > 0
        }
    }

    /// Sends DISCONNECT and closes.
    func disconnect() async {
        try? await channel.writeAndFlush(MQTTPacket.disconnect(DisconnectPacket()))
        try? await channel.close()
    }

    /// Waits until `condition` holds on the inbox, polling; throws after `timeout`.
    func waitFor(
        _ what: String, timeout: Duration = .seconds(5), _ condition: (TestInbox) -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(inbox) {
            guard ContinuousClock.now < deadline else { throw MosquittoError(message: "no \(what) within \(timeout)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// Everything a test client received, across reconnections.
final class TestInbox: Sendable {
    private let packets = Mutex<[MQTTPacket]>([])
    private let publishes = Mutex<[PublishPacket]>([])

    func record(_ packet: MQTTPacket) {
        if case .publish(let publish) = packet {
            publishes.withLock { $0.append(publish) }
        } else {
            packets.withLock { $0.append(packet) }
        }
    }

    /// The number of non-PUBLISH packets matching `predicate`.
    func count(where predicate: (MQTTPacket) -> Bool) -> Int {
        packets.withLock { $0.count(where: predicate) }
    }

    /// The PUBLISH packets received, in arrival order.
    var messages: [PublishPacket] { publishes.withLock { $0 } }

    /// How many PUBLISH packets arrived.
    var messageCount: Int { publishes.withLock { $0.count } }

    /// Payloads as text, in arrival order, for topics matching `prefix`.
    func payloads(topicPrefix prefix: String = "") -> [String] {
        publishes.withLock { $0.filter { $0.topic.hasPrefix(prefix) }.map { String(buffer: $0.payload) } }
    }
}

/// Records packets and acknowledges deliveries, flushing once per read burst.
private final class TestClientHandler: ChannelInboundHandler {
    typealias InboundIn = MQTTPacket
    typealias OutboundOut = MQTTPacket

    private let inbox: TestInbox
    private var needsFlush = false

    init(inbox: TestInbox) {
        self.inbox = inbox
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let packet = unwrapInboundIn(data)
        switch packet {
        case .publish(let publish) where publish.qos == .atLeastOnce:
            context.write(
                wrapOutboundOut(.pubAck(PubAckPacket(packetIdentifier: publish.packetIdentifier ?? 0))), promise: nil)
            needsFlush = true
        case .publish(let publish) where publish.qos == .exactlyOnce:
            context.write(
                wrapOutboundOut(.pubRec(PubAckPacket(packetIdentifier: publish.packetIdentifier ?? 0))), promise: nil)
            needsFlush = true
        case .pubRec(let ack):
            context.write(wrapOutboundOut(.pubRel(PubAckPacket(packetIdentifier: ack.packetIdentifier))), promise: nil)
            needsFlush = true
        case .pubRel(let ack):
            context.write(wrapOutboundOut(.pubComp(PubAckPacket(packetIdentifier: ack.packetIdentifier))), promise: nil)
            needsFlush = true
        default:
            break
        }
        inbox.record(packet)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }
}
