import Logging
import NIOCore
import Synchronization
import WharfConfig
import WharfCore

/// Backpressure the NIO way: the connection stops reading from its socket (it holds back NIO's
/// `read()` and handles nothing more of what it already read) while the client must wait, and
/// reads again once the last reason is gone. The kernel's socket buffer, then TCP flow control,
/// make the client wait; nothing it sends piles up in wharfd's memory.
extension MQTTConnectionHandler {
    func read(context: ChannelHandlerContext) {
        if readGate.read() { context.read() }
    }

    /// The client stopped reading what is written to it, or started again. While its outbound
    /// buffer is over `max_outbound_bytes`, its session stages no QoS 0 messages and nothing is
    /// read from it, so its acknowledgements cannot pile up either.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        if case .connected(let session, let generation) = state {
            session.writabilityChanged(writable: writable, generation: generation)
        }
        if writable {
            resume(.slowReader, context: context)
        } else {
            pause(.slowReader)
        }
        context.fireChannelWritabilityChanged()
    }

    /// Stops reading for `reason`; counted once per spell.
    func pause(_ reason: ReadPause) {
        guard readGate.pause(reason) else { return }
        broker.flowControl.recordPause(reason)
        logger.debug("reading paused", metadata: ["mqtt.read_pause": "\(reason.rawValue)"])
    }

    /// Ends the pause for `reason`; when none is left, handles what was read meanwhile and asks
    /// NIO for more.
    func resume(_ reason: ReadPause, context: ChannelHandlerContext) {
        let resumption = readGate.resume(reason)
        guard resumption.opened, !closing else { return }
        // What the client sent meanwhile waited on Wharf: its keep alive starts over.
        if keepAliveTimeout != nil { lastActivity = context.eventLoop.now }
        handleInbound(context: context)
        flushOutbound(context: context)
        publishCounters()
        if resumption.issueRead, readGate.read() {
            context.read()
        }
    }

    // MARK: Publish rate

    /// Charges one PUBLISH to the client's rate limit; over it, reading pauses until the buckets
    /// are out of debt.
    func chargePublishRate(payloadBytes: Int, context: ChannelHandlerContext) {
        guard let rate = publishRate else { return }
        let wait = rate.limiter.take(payloadBytes: payloadBytes, now: context.eventLoop.now.uptimeNanoseconds)
        guard let wait, !readGate.isPaused(for: .rateLimit) else { return }
        pause(.rateLimit)
        scheduleRateResume(in: wait, context: context)
    }

    private func scheduleRateResume(in nanoseconds: UInt64, context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        publishRate?.timer = context.eventLoop.scheduleTask(in: .nanoseconds(Int64(clamping: nanoseconds))) {
            let (handler, context) = loopBound.value
            handler.rateLimitTimerFired(context: context)
        }
    }

    private func rateLimitTimerFired(context: ChannelHandlerContext) {
        publishRate?.timer = nil
        guard !closing, let rate = publishRate else { return }
        let wait = rate.limiter.waitTime(now: context.eventLoop.now.uptimeNanoseconds)
        if let wait {
            scheduleRateResume(in: wait, context: context)
        } else {
            resume(.rateLimit, context: context)
        }
    }

    // MARK: Store writes and acknowledgements

    /// Bytes a message of this client holds while it waits for the store.
    static func storeCost(of message: Message) -> Int {
        message.payload.readableBytes + message.topic.utf8.count
    }

    /// A message of this client went to the store; reading pauses at `max_pending_store_bytes`.
    func storeWriteStarted(bytes: Int) {
        pendingStoreBytes += bytes
        if pendingStoreBytes >= broker.flowControl.config.maxPendingStoreBytes {
            pause(.pendingStoreBytes)
        }
    }

    /// The store answered for a message of `bytes`.
    func storeWriteFinished(bytes: Int, context: ChannelHandlerContext) {
        pendingStoreBytes = max(0, pendingStoreBytes - bytes)
        if pendingStoreBytes < broker.flowControl.config.maxPendingStoreBytes {
            resume(.pendingStoreBytes, context: context)
        }
    }

    /// Pauses reading while `max_pending_acks` acknowledgements wait, resumes below.
    func checkPendingAcks(context: ChannelHandlerContext) {
        if pendingAcks.count >= broker.flowControl.config.maxPendingAcks {
            pause(.pendingAcks)
        } else if readGate.isPaused(for: .pendingAcks) {
            resume(.pendingAcks, context: context)
        }
    }

    /// Routes a QoS 0 message. When it may cost a store write (a forward rule, or a retained
    /// message), the write counts against `max_pending_store_bytes` until the store answers:
    /// QoS 0 has no acknowledgement to hold back, so this is what keeps a flood bounded.
    func routeAtMostOnce(_ message: Message, session: Session, context: ChannelHandlerContext) {
        let mayStore =
            broker.flowControl.hasForwardRoutes.load(ordering: .relaxed) || (message.retain && broker.store != nil)
        guard mayStore else {
            if let refusal = broker.router.publish(message, from: session, whenDurable: nil).refusal {
                logRefusal(refusal, topic: message.topic)
            }
            return
        }
        let cost = Self.storeCost(of: message)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let result = broker.router.publish(message, from: session) { _ in
            eventLoop.execute {
                let (handler, context) = loopBound.value
                handler.storeWriteFinished(bytes: cost, context: context)
            }
        }
        if let refusal = result.refusal {
            logRefusal(refusal, topic: message.topic)
        } else if result.awaitsDurability {
            storeWriteStarted(bytes: cost)
        }
    }
}

/// A connection's publish rate limit and the timer that ends its pause; held out of line by the
/// connection, since most brokers set no rate (and an idle connection should not pay for one).
final class PublishRate {
    var limiter: PublishRateLimiter
    var timer: Scheduled<Void>?

    init(limiter: PublishRateLimiter) {
        self.limiter = limiter
    }
}
