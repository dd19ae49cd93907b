import MQTTCodec
import NIOCore
import WharfCore

/// One publishing client: sends its messages in batches as the end-to-end window, PUBACKs and the
/// broker's Receive Maximum allow, and finishes when every subscriber has every message.
final class PublisherHandler: BenchClient {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let index: Int
    private let clientID: String
    private let configuration: BenchConfiguration
    private let template: PublishTemplate
    private let progress: PublisherProgress
    private let tracker: RunTracker
    private let ready: EventLoopPromise<Void>

    private var context: ChannelHandlerContext?
    private var framer = InboundFramer()
    private var running = false
    private var finished = false
    private var closing = false
    /// Messages written so far; the next sequence number.
    private(set) var sent = 0
    /// QoS 1 messages not yet acknowledged.
    private(set) var unacknowledged = 0
    /// What the broker accepts unacknowledged (MQTT 5 Receive Maximum; 3.1.1 has no limit).
    private var receiveMaximum = 65535
    /// Packet identifiers in use, indexed by identifier (QoS 1 only).
    private var identifierInUse: [Bool]
    private var nextIdentifier: UInt16 = 1

    /// Creates publisher `index`, connected as `clientID`, sending `template` copies.
    init(
        index: Int,
        clientID: String,
        configuration: BenchConfiguration,
        template: PublishTemplate,
        progress: PublisherProgress,
        tracker: RunTracker,
        ready: EventLoopPromise<Void>
    ) {
        self.index = index
        self.clientID = clientID
        self.configuration = configuration
        self.template = template
        self.progress = progress
        self.tracker = tracker
        self.ready = ready
        identifierInUse = configuration.qos == .atMostOnce ? [] : Array(repeating: false, count: 65536)
    }

    var handshake: EventLoopFuture<Void> { ready.futureResult }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let connect = ConnectPacket(
            protocolVersion: configuration.version,
            clientIdentifier: clientID,
            cleanStart: true,
            keepAlive: benchKeepAlive
        )
        do {
            let buffer = try MQTTPacket.connect(connect).encoded(context: context, version: configuration.version)
            context.writeAndFlush(Self.wrapOutboundOut(buffer), promise: nil)
        } catch {
            fail("cannot encode CONNECT: \(error)")
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        framer.append(Self.unwrapInboundIn(data))
        do {
            while let packet = try framer.next(version: configuration.version) {
                switch packet {
                case .pubAck(let ack):
                    let identifier = Int(ack.packetIdentifier)
                    guard identifierInUse.indices.contains(identifier), identifierInUse[identifier] else {
                        return fail("PUBACK for packet identifier \(identifier), which is not in flight")
                    }
                    if ack.reasonCode.rawValue >= 0x80 {
                        return fail("broker rejected a PUBLISH: \(ack.reasonCode)")
                    }
                    identifierInUse[identifier] = false
                    unacknowledged -= 1
                case .connAck(let ack):
                    if let failure = connAckFailure(ack) { return fail(failure) }
                    receiveMaximum = Int(ack.properties.receiveMaximum ?? 65535)
                    ready.succeed()
                case .pingResp:
                    break
                case .disconnect(let disconnect):
                    return fail("broker sent DISCONNECT: \(disconnect.reasonCode)")
                default:
                    return fail("unexpected \(packet.packetType) from the broker")
                }
            }
        } catch {
            fail("cannot decode what the broker sent: \(error)")
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if running { pump() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !closing { fail("connection closed by the broker") }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail("connection error: \(error)")
    }

    /// Starts publishing.
    func start() {
        running = true
        pump()
    }

    /// Sends as many messages as every limit allows, in one write; finishes when all are delivered.
    func pump() {
        guard running, !finished, let context else { return }
        let total = configuration.messages
        var limit = total - sent
        if configuration.qos != .atMostOnce { limit = min(limit, receiveMaximum - unacknowledged) }
        let (delivered, count) = progress.admit(sent: sent, limit: limit, window: configuration.window, total: total)
        if count > 0 {
            var buffer = context.channel.allocator.buffer(capacity: count * template.packetSize)
            template.write(
                into: &buffer,
                count: count,
                publisher: index,
                firstSequence: sent,
                sentAt: monotonicNanoseconds(),
                nextIdentifier: allocateIdentifier
            )
            sent += count
            if configuration.qos != .atMostOnce { unacknowledged += count }
            context.writeAndFlush(Self.wrapOutboundOut(buffer), promise: nil)
        } else if sent == total && unacknowledged == 0 && delivered >= total {
            finished = true
            tracker.publisherFinished()
        }
    }

    private func allocateIdentifier() -> UInt16 {
        // Cannot loop forever: fewer than 65535 identifiers are ever in use (Receive Maximum bound).
        while identifierInUse[Int(nextIdentifier)] {
            nextIdentifier = nextIdentifier == 65535 ? 1 : nextIdentifier + 1
        }
        let identifier = nextIdentifier
        identifierInUse[Int(identifier)] = true
        nextIdentifier = nextIdentifier == 65535 ? 1 : nextIdentifier + 1
        return identifier
    }

    func handshakeTimedOut() {
        ready.fail(BenchError("publisher \(index): no CONNACK within 10 s"))
    }

    func disconnect() {
        closing = true
        guard let context else { return }
        if let buffer = try? MQTTPacket.disconnect(DisconnectPacket()).encoded(
            context: context, version: configuration.version)
        {
            context.writeAndFlush(Self.wrapOutboundOut(buffer), promise: nil)
        }
        context.close(promise: nil)
    }

    private func fail(_ message: String) {
        let error = BenchError("publisher \(index): \(message)")
        ready.fail(error)
        if !closing {
            closing = true
            tracker.end(.failed(error.description))
            context?.close(promise: nil)
        }
    }
}
