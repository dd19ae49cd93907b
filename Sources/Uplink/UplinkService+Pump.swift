import Logging
import MQTTCodec
import NIOCore
import Synchronization
import WharfCore

extension UplinkService {
    /// Registers a burst of answers: frees their window slots, hands accepted records to the queue (at
    /// PUBACK, or at PUBREC for QoS 2, whose PUBREL the next pump sends), keeps transiently refused ones
    /// for resending (and throttles), and dead-letters permanent refusals.
    ///
    /// Runs on the event loop.
    func acknowledge(_ answers: [PublishAnswer]) {
        let now = clock.now()
        let wallNow = wallClock()
        var logged: [(Int64, PubAckPacket, RefusalKind)] = []
        var records = 0
        var deadLetters = 0
        shared.withLock { shared in
            shared.keepAlive?.received()
            var accepted = 0
            for answer in answers {
                let ack: PubAckPacket
                switch answer {
                case .pubComp(let completed):
                    if shared.window.complete(completed.packetIdentifier) { shared.status.exactlyOnceCompleted += 1 }
                    continue
                case .pubAck(let packet), .pubRec(let packet):
                    ack = packet
                }
                let code = ack.reasonCode.rawValue
                let kind = configuration.refusals.classify(code)
                // A refused status publish is not resent (the next connection publishes it afresh).
                if kind == .transient { shared.status.refusals.transient[code, default: 0] += 1 }
                if kind == .transient, let sequence = shared.window.refuse(ack.packetIdentifier) {
                    shared.throttle.refused(at: now)
                    shared.window.setLimit(shared.throttle.window)
                    shared.rejectionsLogged += 1
                    if shared.rejectionsLogged <= 10 || shared.rejectionsLogged.isMultiple(of: 1000) {
                        logged.append((sequence, ack, .transient))
                    }
                    continue
                }
                let outcome =
                    if case .pubRec = answer, kind == nil {
                        shared.window.received(ack.packetIdentifier)
                    } else {
                        shared.window.acknowledge(ack.packetIdentifier)
                    }
                guard case .record(let sequence) = outcome else { continue }
                records += 1
                guard kind == .permanent else {
                    accepted += 1
                    shared.pendingAcknowledgements.append(sequence)
                    continue
                }
                deadLetters += 1
                shared.pendingDeadLetters.append(
                    UplinkDeadLetter(
                        sequence: sequence, reasonCode: code, reasonString: ack.properties.reasonString,
                        refusedAt: wallNow))
                shared.status.rejected += 1
                shared.status.refusals.permanent[code, default: 0] += 1
                shared.rejectionsLogged += 1
                // A server that refuses everything would otherwise log at the drain rate.
                if shared.rejectionsLogged <= 10 || shared.rejectionsLogged.isMultiple(of: 1000) {
                    logged.append((sequence, ack, .permanent))
                }
            }
            shared.throttle.accepted(accepted, at: now)
            shared.window.setLimit(shared.throttle.window)
            shared.status.acknowledged += records
            shared.rate.record(total: shared.status.acknowledged, at: now)
        }
        windowSignal.signal()
        if records > 0 || deadLetters > 0 { acknowledgeSignal.signal() }
        for (sequence, ack, kind) in logged {
            let reason = ack.properties.reasonString.map { " (\($0))" } ?? ""
            let code = "0x\(String(ack.reasonCode.rawValue, radix: 16)) \(ack.reasonCode)"
            switch kind {
            case .transient:
                logger.warning(
                    "Uplink: \(endpoint) refused record \(sequence) for now with reason code \(code)\(reason); it stays queued and the uplink slows down",
                    metadata: ["uplink.error": "puback-transient", "uplink.reason_code": "\(code)"]
                )
            case .permanent:
                logger.error(
                    "Uplink: \(endpoint) refused record \(sequence) with reason code \(code)\(reason); it moves to the dead-letter table",
                    metadata: ["uplink.error": "puback-permanent", "uplink.reason_code": "\(code)"]
                )
            }
        }
    }

    /// Takes what may be sent now (retransmissions first, then read-ahead records as the window allows)
    /// and encodes it into one buffer; nil when there is nothing to send.
    ///
    /// Runs on the event loop of `channel`; the queue is never touched here, only the read-ahead.
    func pump(channel: any Channel) -> ByteBuffer? {
        let wallNow = wallClock()
        let batchSize = max(1, configuration.readBatch)
        var refetch = false
        let channelID = ObjectIdentifier(channel)
        let now = clock.now()
        var wakeAt: UInt64?
        let (resends, fresh, version) = shared.withLock {
            shared -> (InflightWindow.Batch, InflightWindow.Batch, MQTTProtocolVersion?) in
            guard shared.activeChannel == channelID else {
                return (InflightWindow.Batch(), InflightWindow.Batch(), nil)
            }
            if shared.throttle.isPaused(at: now), let until = shared.throttle.pausedUntil {
                // Paused after a transient refusal: one timer wakes the pump when the pause ends.
                if shared.wakeScheduled != until {
                    shared.wakeScheduled = until
                    wakeAt = until
                }
                return (InflightWindow.Batch(), InflightWindow.Batch(), nil)
            }
            // The publish rate's tokens bound the records sent now, resends and fresh ones together.
            let allowance = shared.rateLimiter?.available(at: now) ?? Int.max
            let resends = shared.window.takeResends(now: wallNow, limit: allowance)
            var fresh = InflightWindow.Batch()
            if !shared.stopping && shared.window.pendingResends == 0 {
                var budget = allowance - resends.publishes.count
                while budget > 0 {
                    let limit = min(shared.window.readLimit(batch: batchSize), budget)
                    guard limit > 0 && shared.readAhead.count > 0 else { break }
                    let taken = shared.readAhead.take(limit)
                    let batch = shared.window.admit(Array(taken), now: wallNow)
                    fresh.merge(batch)
                    budget -= batch.publishes.count
                    // Whatever the window did not take goes back in front, still in order.
                    let lastRead = shared.window.lastRead
                    let left = taken.drop { $0.sequence <= lastRead }
                    shared.readAhead.putBack(left)
                    // Records taken but not sent (dead-lettered, expired) leave tokens for the next ones.
                    guard left.isEmpty && batch.publishes.count < taken.count else { break }
                }
                refetch = shared.readAhead.count < batchSize
            }
            let sent = resends.publishes.count + fresh.publishes.count
            if let wake = shared.spendPublishTokens(sent, allowance: allowance, at: now) { wakeAt = wake }
            return (resends, fresh, shared.window.link?.version)
        }
        if let wakeAt {
            let delay = TimeAmount.nanoseconds(Int64(clamping: wakeAt &- min(wakeAt, now)))
            channel.eventLoop.scheduleTask(in: delay) {
                channel.pipeline.fireUserInboundEventTriggered(UplinkPumpEvent())
            }
        }
        if refetch { fetchSignal.signal() }
        guard let version else { return nil }
        if resends.heldByMaximumQoS || fresh.heldByMaximumQoS { reportMaximumQoS() }
        var finished = resends.finished + fresh.finished
        let dropped = resends.dropped + fresh.dropped
        let deadLettered = resends.deadLettered + fresh.deadLettered
        if !deadLettered.isEmpty { deadLetter(deadLettered, at: wallNow) }
        var buffer = channel.allocator.buffer(
            capacity: 64 * (resends.publishes.count + fresh.publishes.count) + 4 * resends.releases.count)
        var written = (resends: 0, fresh: 0)
        var unencodable: [(sequence: Int64, refusal: LocalRefusal)] = []
        for identifier in resends.releases {
            // Fixed-size packets: encoding them cannot fail.
            try? MQTTPacket.pubRel(PubAckPacket(packetIdentifier: identifier)).encode(into: &buffer, version: version)
        }
        for (index, packet) in (resends.publishes + fresh.publishes).enumerated() {
            do {
                try MQTTPacket.publish(packet).encode(into: &buffer, version: version)
                if index < resends.publishes.count { written.resends += 1 } else { written.fresh += 1 }
            } catch {
                // Only properties beyond MQTT's field limits get here; the record can never be sent. A
                // QoS 0 record has already finished; any other is kept as a dead letter.
                if let identifier = packet.packetIdentifier,
                    let sequence = shared.withLock({ $0.window.abandon(identifier) })
                {
                    let reason = "cannot be encoded as an MQTT PUBLISH for topic \(packet.topic): \(error)"
                    unencodable.append(
                        (sequence, LocalRefusal(limit: "encoding", reasonCode: 0x83, reasonString: reason)))
                } else {
                    logger.warning(
                        "Uplink drops a QoS 0 record it cannot encode for topic \(packet.topic): \(error)",
                        metadata: ["uplink.error": "encode"])
                }
            }
        }
        if !unencodable.isEmpty { deadLetter(unencodable, at: wallNow) }
        if !dropped.isEmpty { logDrops(dropped) }
        let sentAt = clock.now()
        let bytes = buffer.readableBytes
        shared.withLock { shared in
            shared.pendingAcknowledgements.append(contentsOf: finished)
            shared.status.dropped += dropped.count
            shared.status.published += written.fresh
            shared.status.resent += written.resends
            shared.status.bytesSent += bytes
            if bytes > 0 { shared.keepAlive?.sent(at: sentAt) }
        }
        if !finished.isEmpty { acknowledgeSignal.signal() }
        return bytes > 0 ? buffer : nil
    }

    /// A cloud whose Maximum QoS is 0 cannot take QoS 1 records: report it once per connection, keep them.
    private func reportMaximumQoS() {
        let (first, limit) = shared.withLock { shared -> (Bool, UplinkLimit<QoS>?) in
            defer { shared.maximumQoSReported = true }
            shared.status.refusals.heldByMaximumQoS = true
            let link = shared.window.link
            return (!shared.maximumQoSReported, link?.maximumQoSIsLocal == true ? link?.limits.maxQoS : nil)
        }
        guard first else { return }
        let message =
            if let limit {
                "\(endpoint) may be sent only QoS 0 (\(limit.keyPath) 0): QoS 1 records stay queued instead of being "
                    + "sent at QoS 0 and lost; raise \(limit.keyPath), or set qos: 0 on the forward rules meant to go "
                    + "at QoS 0"
            } else {
                "\(endpoint) accepts only QoS 0 (CONNACK Maximum QoS 0): QoS 1 records stay queued instead of being "
                    + "sent at QoS 0 and lost; allow QoS 1 on the cloud, or set qos: 0 on the forward rules meant to go "
                    + "at QoS 0"
            }
        shared.withLock { $0.status.lastError = message }
        logger.error("Uplink: \(message)", metadata: ["uplink.error": "maximum-qos"])
    }

    private func logDrops(_ dropped: [(sequence: Int64, reason: InflightWindow.DropReason)]) {
        var byReason: [InflightWindow.DropReason: [Int64]] = [:]
        for (sequence, reason) in dropped { byReason[reason, default: []].append(sequence) }
        for (reason, sequences) in byReason {
            let first = sequences.first ?? 0
            logger.warning(
                "Uplink drops \(sequences.count) record(s) (\(reason.rawValue)), first sequence \(first)",
                metadata: ["uplink.drop_reason": "\(reason.rawValue)"]
            )
        }
    }
}
