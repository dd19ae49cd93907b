import Histogram
import MQTTCodec
import NIOCore
import Synchronization
import WharfCore

/// What one subscriber saw.
struct SubscriberResult: Sendable {
    /// Distinct messages received, per publisher.
    var unique: [Int]
    /// Messages received again (sequence number not above one already seen).
    var duplicates: Int
    /// Messages skipped when a later one arrived first.
    var gaps: Int
    /// Publications that carried no stamp of this run.
    var foreign: Int
    /// End-to-end latency of each distinct message, in microseconds.
    var latency: Histogram<UInt64>
}

/// One subscribing client: acknowledges QoS 1 deliveries, records latency and per-publisher
/// sequence numbers, and reports progress to the publishers once per read batch.
final class SubscriberHandler: BenchClient {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let index: Int
    private let clientID: String
    private let filter: String
    private let configuration: BenchConfiguration
    /// Per publisher: this subscriber's slot in its progress, or -1.
    private let slots: [Int]
    private let progress: [PublisherProgress]
    private let tracker: RunTracker
    private let ready: EventLoopPromise<Void>

    private var context: ChannelHandlerContext?
    private var framer = InboundFramer()
    private var closing = false
    /// Per publisher: the next sequence number expected.
    private var next: [Int]
    private var unique: [Int]
    private var duplicates = 0
    private var gaps = 0
    private var foreign = 0
    private var latency = Histogram<UInt64>(
        highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    /// Publishers heard from in the current read batch.
    private var dirty: [Int] = []
    private var isDirty: [Bool]
    private var batchDeliveries = 0
    /// PUBACKs to send at the end of the read batch.
    private var acknowledgments = ByteBuffer()

    /// Creates subscriber `index`, connected as `clientID`, subscribing to `filter`.
    init(
        index: Int,
        clientID: String,
        filter: String,
        configuration: BenchConfiguration,
        slots: [Int],
        progress: [PublisherProgress],
        tracker: RunTracker,
        ready: EventLoopPromise<Void>
    ) {
        self.index = index
        self.clientID = clientID
        self.filter = filter
        self.configuration = configuration
        self.slots = slots
        self.progress = progress
        self.tracker = tracker
        self.ready = ready
        next = Array(repeating: 0, count: slots.count)
        unique = Array(repeating: 0, count: slots.count)
        isDirty = Array(repeating: false, count: slots.count)
        dirty.reserveCapacity(slots.count)
    }

    var handshake: EventLoopFuture<Void> { ready.futureResult }

    /// What this subscriber has seen so far.
    var result: SubscriberResult {
        SubscriberResult(unique: unique, duplicates: duplicates, gaps: gaps, foreign: foreign, latency: latency)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let connect = ConnectPacket(
            protocolVersion: configuration.version,
            clientIdentifier: clientID,
            cleanStart: true,
            keepAlive: benchKeepAlive
        )
        send(.connect(connect), context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // One clock reading per read: everything in it arrived together.
        let now = monotonicNanoseconds()
        framer.append(Self.unwrapInboundIn(data))
        do {
            while let packet = try framer.next(version: configuration.version) {
                if case .publish(let publish) = packet {
                    receive(publish, at: now)
                } else {
                    handleControl(packet, context: context)
                }
            }
        } catch {
            fail("cannot decode what the broker sent: \(error)")
        }
    }

    @inline(__always)
    private func receive(_ publish: PublishPacket, at now: UInt64) {
        if let identifier = publish.packetIdentifier {
            // PUBACK, success, no properties: the same four bytes in 3.1.1 and 5.0.
            acknowledgments.writeInteger(UInt32(0x4002_0000) | UInt32(identifier))
        }
        let stamp = publish.payload.withUnsafeReadableBytes { PayloadStamp.read(from: $0) }
        guard let stamp, stamp.publisher < slots.count, slots[stamp.publisher] >= 0 else {
            foreign += 1
            return
        }
        let publisher = stamp.publisher
        let expected = next[publisher]
        guard stamp.sequence >= expected else {
            duplicates += 1
            return
        }
        gaps += stamp.sequence - expected
        next[publisher] = stamp.sequence + 1
        unique[publisher] += 1
        batchDeliveries += 1
        latency.record(now > stamp.sentAt ? (now - stamp.sentAt) / 1000 : 0)
        if !isDirty[publisher] {
            isDirty[publisher] = true
            dirty.append(publisher)
        }
    }

    private func handleControl(_ packet: MQTTPacket, context: ChannelHandlerContext) {
        switch packet {
        case .connAck(let ack):
            if let failure = connAckFailure(ack) { return fail(failure) }
            let options = SubscriptionOptions(qos: configuration.qos)
            let subscribe = SubscribePacket(
                packetIdentifier: 1,
                subscriptions: [TopicSubscription(topicFilter: filter, options: options)]
            )
            send(.subscribe(subscribe), context: context)
        case .subAck(let ack):
            guard let code = ack.reasonCodes.first, code < 0x80 else {
                return fail("broker refused the subscription to \(filter)")
            }
            guard code == configuration.qos.rawValue else {
                return fail("broker granted QoS \(code) for \(filter), not \(configuration.qos.rawValue)")
            }
            ready.succeed()
        case .pingResp:
            break
        case .disconnect(let disconnect):
            fail("broker sent DISCONNECT: \(disconnect.reasonCode)")
        default:
            fail("unexpected \(packet.packetType) from the broker")
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if acknowledgments.readableBytes > 0 {
            context.writeAndFlush(Self.wrapOutboundOut(acknowledgments), promise: nil)
            acknowledgments = context.channel.allocator.buffer(capacity: 1024)
        }
        guard batchDeliveries > 0 else { return }
        tracker.deliveries.add(batchDeliveries, ordering: .relaxed)
        batchDeliveries = 0
        for publisher in dirty {
            isDirty[publisher] = false
            progress[publisher].advance(slot: slots[publisher], to: next[publisher])
        }
        dirty.removeAll(keepingCapacity: true)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !closing { fail("connection closed by the broker") }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail("connection error: \(error)")
    }

    func handshakeTimedOut() {
        ready.fail(BenchError("subscriber \(index): no CONNACK or SUBACK within 10 s"))
    }

    func disconnect() {
        closing = true
        guard let context else { return }
        send(.disconnect(DisconnectPacket()), context: context)
        context.close(promise: nil)
    }

    private func send(_ packet: MQTTPacket, context: ChannelHandlerContext) {
        do {
            let buffer = try packet.encoded(context: context, version: configuration.version)
            context.writeAndFlush(Self.wrapOutboundOut(buffer), promise: nil)
        } catch {
            fail("cannot encode \(packet.packetType): \(error)")
        }
    }

    private func fail(_ message: String) {
        let error = BenchError("subscriber \(index): \(message)")
        ready.fail(error)
        if !closing {
            closing = true
            tracker.end(.failed(error.description))
            context?.close(promise: nil)
        }
    }
}
