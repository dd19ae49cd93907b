import MQTTCodec
import NIOCore
import Synchronization
import WharfCore

/// One MQTT session: its subscriptions, its delivery state and the connection that holds it
/// now, if any. Messages reach it from any thread; they are batched under the session's lock
/// and written by a single flush task on the connection's event loop.
final class Session: Sendable {
    /// The client identifier this session belongs to.
    let clientIdentifier: String
    let core: Mutex<Core>
    /// What all sessions of the broker share, held once rather than by each session (100 bytes
    /// less for every connected client).
    let shared: Shared

    /// The broker's counters, bounds and store, the same for every session.
    final class Shared: Sendable {
        let statistics: BrokerStatistics
        /// Bytes of QoS 0 packets staged for one flush at most (`max_outbound_bytes`).
        let maxStagedBytes: Int
        /// Where sessions are persisted while their expiry interval is above zero.
        let store: (any SessionStore)?
        let wallClock: any WallClock

        init(
            statistics: BrokerStatistics,
            maxStagedBytes: Int = 1 << 20,
            store: (any SessionStore)? = nil,
            wallClock: any WallClock = SystemWallClock()
        ) {
            self.statistics = statistics
            self.maxStagedBytes = maxStagedBytes
            self.store = store
            self.wallClock = wallClock
        }
    }

    var statistics: BrokerStatistics { shared.statistics }
    /// Bytes of QoS 0 packets staged for one flush at most (`max_outbound_bytes`).
    var maxStagedBytes: Int { shared.maxStagedBytes }
    /// Where the session is persisted while its expiry interval is above zero.
    var store: (any SessionStore)? { shared.store }
    var wallClock: any WallClock { shared.wallClock }

    /// The attached connection, as the session sees it.
    struct Attachment: Sendable {
        var channel: any Channel
        var version: MQTTProtocolVersion
        /// Distinguishes this attachment from earlier ones of the same session.
        var generation: UInt64
        var maximumPacketSize: Int
    }

    struct Core: Sendable {
        var state: SessionState
        var subscriptions: [String: SessionSubscription] = [:]
        var attachment: Attachment?
        var generation: UInt64 = 0
        /// Packets waiting for the next flush on the connection's event loop.
        var pending = StagedPackets()
        /// The attachment generation whose channel is not writable (0: none). A new attachment
        /// starts writable.
        var unwritableGeneration: UInt64 = 0
        var flushScheduled = false
        /// MQTT 5 Session Expiry Interval in seconds; `UInt32.max` never expires.
        var expiryInterval: UInt32 = 0
        /// When the last connection went away (nil while connected), in ns of the broker clock; negative for a
        /// session restored after a restart that had been disconnected before this process began.
        var disconnectedAt: Int64?
        /// A will waiting for its MQTT 5 Will Delay Interval.
        var delayedWill: DelayedWill? {
            get { delayedWillBox?.value }
            set { delayedWillBox = newValue.map(Boxed.init) }
        }
        /// Out of line: a `Message` is 192 bytes, and few sessions ever hold a delayed will.
        var delayedWillBox: Boxed<DelayedWill>?
        /// Set once the session is discarded, so late deliveries go nowhere.
        var ended = false
        /// Whether the session has rows in the session store.
        var persisted = false
        /// Who the session belongs to: the MQTT client that connected last, or the owner kept
        /// with a persistent session. Deliveries are checked against what it may read.
        var principal: Principal
        /// The user whose clients may resume the session.
        var owner: SessionOwner = .user(nil)
        /// Connections waiting for the outcome of an inbound QoS 2 message's write, to answer a
        /// resend of it (by packet identifier).
        var inboundWaiters: [UInt16: [@Sendable (DurableOutcome) -> Void]] = [:]

        /// Whether messages and subscriptions are written to the store now.
        var isPersistent: Bool { expiryInterval > 0 }
    }

    init(
        clientIdentifier: String,
        maxInflight: Int,
        maxQueued: Int,
        maxQueuedBytes: Int = 0,
        shared: Shared
    ) {
        self.clientIdentifier = clientIdentifier
        self.shared = shared
        self.core = Mutex(
            Core(
                state: SessionState(maxInflight: maxInflight, maxQueued: maxQueued, maxQueuedBytes: maxQueuedBytes),
                principal: .client(username: nil, clientIdentifier: clientIdentifier, listener: "")
            ))
    }

    /// Who the session belongs to now.
    var principal: Principal { core.withLock { $0.principal } }

    /// Offers a routed message. A QoS 1/2 message for a persistent session is written to the
    /// session store first; `join` then waits for that write before the publisher's PUBACK.
    func deliver(_ message: OutboundMessage, now: UInt64, join: DurabilityJoin? = nil) {
        let channel: (any Channel)? = core.withLock { core in
            guard !core.ended else { return nil }
            var message = message
            if let store, core.isPersistent, message.qos != .atMostOnce {
                // Saved under the session's lock so that the store sees this insert before any
                // delete an acknowledgement on another thread could cause.
                message.storeID = store.saveMessage(
                    clientIdentifier: clientIdentifier,
                    StoredMessage(
                        message: message.message,
                        qos: message.qos,
                        retain: message.retain,
                        subscriptionIdentifiers: message.subscriptionIdentifiers,
                        receivedAtWall: wallClock.millisecondsSinceEpoch()
                            - Int64((now &- message.message.receivedAt) / 1_000_000)
                    ),
                    completion: join?.expectWrite()
                )
                core.persisted = true
            }
            let actions = core.state.enqueue(message, now: now)
            countDrops(actions)
            return stage(actions, in: &core)
        }
        if let channel { scheduleFlush(on: channel) }
    }

    /// The write an inbound QoS 2 message needed is decided: a kept message keeps its identifier
    /// until PUBREL (a resend is not routed again); a refused or failed one frees it (a resend is
    /// routed as new). Resends that waited for the outcome get it. Runs on any thread.
    func inboundDecided(_ packetIdentifier: UInt16, _ outcome: DurableOutcome) {
        let waiters: [@Sendable (DurableOutcome) -> Void] = core.withLock { core in
            if outcome == .stored {
                core.state.inboundStored(packetIdentifier)
            } else {
                core.state.inboundFailed(packetIdentifier)
                if core.persisted {
                    store?.deleteInboundQoS2(clientIdentifier: clientIdentifier, packetIdentifier: packetIdentifier)
                }
            }
            return core.inboundWaiters.removeValue(forKey: packetIdentifier) ?? []
        }
        for waiter in waiters { waiter(outcome) }
    }

    /// PUBREL: the inbound QoS 2 identifier is free again; returns whether it was known.
    func releaseInbound(_ packetIdentifier: UInt16) -> Bool {
        core.withLock { core in
            let known = core.state.release(packetIdentifier)
            if known, core.persisted {
                store?.deleteInboundQoS2(clientIdentifier: clientIdentifier, packetIdentifier: packetIdentifier)
            }
            return known
        }
    }

    /// Runs `body` on the state under the lock and stages the packets it returns.
    func perform(_ body: (inout Core) -> [SessionState.Action]) {
        let channel: (any Channel)? = core.withLock { core in
            let actions = body(&core)
            countDrops(actions)
            return stage(actions, in: &core)
        }
        if let channel { scheduleFlush(on: channel) }
    }

    /// Writes everything staged to the attached connection. Runs on its event loop. While the
    /// channel is not writable nothing is written: the packets stay staged (QoS 1/2 ones are
    /// bounded by the in-flight window, QoS 0 ones by `maxStagedBytes`) until it drains.
    func flush() {
        let (packets, attachment): ([MQTTPacket], Attachment?) = core.withLock { core in
            core.flushScheduled = false
            guard let attachment = core.attachment, !core.pending.isEmpty else { return ([], nil) }
            let channel = attachment.channel
            if channel.eventLoop.inEventLoop, !channel.isWritable {
                core.unwritableGeneration = attachment.generation
                return ([], nil)
            }
            return (core.pending.take(), attachment)
        }
        guard let attachment, !packets.isEmpty else { return }
        let channel = attachment.channel
        guard channel.eventLoop.inEventLoop else {
            // The session moved to a connection on another loop between scheduling and now.
            channel.eventLoop.execute { self.requeue(packets) }
            return
        }
        var buffer = channel.allocator.buffer(capacity: 256 * packets.count)
        var publishes = 0
        var publishBytes = 0
        var written = 0
        for packet in packets {
            if case .publish(let publish) = packet {
                if attachment.maximumPacketSize < 268_435_460,
                    packet.encodedSize(version: attachment.version) > attachment.maximumPacketSize
                {
                    // QoS 0 larger than the client accepts: discarded (MQTT 5 §3.1.2.11.4).
                    statistics.recordDrop(.tooLargeForClient)
                    continue
                }
                publishes += 1
                publishBytes += publish.payload.readableBytes
            }
            do {
                try packet.encode(into: &buffer, version: attachment.version)
                written += 1
            } catch {
                continue  // unrepresentable packets cannot be sent; nothing else to do with them
            }
        }
        statistics.packetsSent.add(written, ordering: .relaxed)
        statistics.publishSent.add(publishes, ordering: .relaxed)
        statistics.publishBytesSent.add(publishBytes, ordering: .relaxed)
        statistics.bytesSent.add(buffer.readableBytes, ordering: .relaxed)
        channel.writeAndFlush(buffer, promise: nil)
    }

    /// The attached channel of generation `generation` became writable or stopped being so.
    /// Becoming writable again flushes what waited.
    func writabilityChanged(writable: Bool, generation: UInt64) {
        let channel: (any Channel)? = core.withLock { core in
            guard let attachment = core.attachment, attachment.generation == generation else { return nil }
            guard writable else {
                core.unwritableGeneration = generation
                return nil
            }
            core.unwritableGeneration = 0
            guard !core.pending.isEmpty, !core.flushScheduled else { return nil }
            core.flushScheduled = true
            return attachment.channel
        }
        if let channel { scheduleFlush(on: channel) }
    }

    private func requeue(_ packets: [MQTTPacket]) {
        let channel: (any Channel)? = core.withLock { core in
            core.pending.putBack(packets)
            guard let attachment = core.attachment, !core.flushScheduled else { return nil }
            core.flushScheduled = true
            return attachment.channel
        }
        if let channel { channel.eventLoop.execute { self.flush() } }
    }

    private func scheduleFlush(on channel: any Channel) {
        channel.eventLoop.execute { self.flush() }
    }

    /// Appends the actions' packets to `pending` and applies their store updates; returns the
    /// channel to schedule a flush on when one is not already scheduled.
    func stage(_ actions: [SessionState.Action], in core: inout Core) -> (any Channel)? {
        var staged = false
        for action in actions {
            switch action {
            case .publish(let packet):
                guard let attachment = core.attachment else { continue }
                let size = StagedPackets.estimatedSize(of: packet)
                if packet.qos == .atMostOnce,
                    core.unwritableGeneration == attachment.generation
                        || core.pending.bytes + size > maxStagedBytes
                {
                    // The client reads slower than messages arrive: QoS 0 is what gives way,
                    // while QoS 1/2 wait in the session's bounded queue.
                    statistics.recordDrop(.slowConsumer)
                    continue
                }
                core.pending.append(.publish(packet), size: size)
                staged = true
            case .pubRel(let identifier):
                guard core.attachment != nil else { continue }
                core.pending.append(.pubRel(PubAckPacket(packetIdentifier: identifier)), size: 4)
                staged = true
            case .forget(let storeID):
                store?.deleteMessage(clientIdentifier: clientIdentifier, id: storeID)
            case .released(let storeID, let packetIdentifier):
                store?.markReleased(clientIdentifier: clientIdentifier, id: storeID, packetIdentifier: packetIdentifier)
            case .sent(let storeID, let packetIdentifier):
                store?.markSent(clientIdentifier: clientIdentifier, id: storeID, packetIdentifier: packetIdentifier)
            case .drop:
                break
            }
        }
        guard staged, !core.flushScheduled, let attachment = core.attachment else { return nil }
        core.flushScheduled = true
        return attachment.channel
    }

    private func countDrops(_ actions: [SessionState.Action]) {
        for case .drop(let reason) in actions {
            statistics.recordDrop(reason)
        }
    }
}

/// A will that waits for its MQTT 5 Will Delay Interval, and when it is due (ns, broker clock).
struct DelayedWill: Sendable {
    var will: Message
    var due: UInt64
}

extension Session.Attachment {
    /// Tells an MQTT 5 client why with DISCONNECT, then closes the connection; the handler
    /// releases the session when the channel goes inactive.
    func disconnect(_ reason: ReasonCode) {
        let channel = self.channel
        let version = self.version
        channel.eventLoop.execute {
            if version == .v5 {
                var buffer = channel.allocator.buffer(capacity: 4)
                let packet = MQTTPacket.disconnect(DisconnectPacket(reasonCode: reason))
                if (try? packet.encode(into: &buffer, version: .v5)) != nil {
                    channel.writeAndFlush(buffer, promise: nil)
                }
            }
            channel.close(promise: nil)
        }
    }
}
