import Logging
import MQTTCodec
import NIOCore
import Synchronization
import WharfCore

extension UplinkService {
    /// Registers a burst of PUBACKs: frees their window slots and hands their records to the queue.
    ///
    /// Runs on the event loop.
    func acknowledge(_ acknowledgements: [PubAckPacket]) {
        let now = clock.now()
        var rejections: [(Int64, PubAckPacket)] = []
        var records = 0
        shared.withLock { shared in
            shared.keepAlive?.received()
            for ack in acknowledgements {
                guard case .record(let sequence) = shared.window.acknowledge(ack.packetIdentifier) else { continue }
                records += 1
                shared.pendingAcknowledgements.append(sequence)
                guard ack.reasonCode.rawValue >= 0x80 else { continue }
                shared.status.rejected += 1
                shared.rejectionsLogged += 1
                // A server that refuses everything would otherwise log at the drain rate.
                if shared.rejectionsLogged <= 10 || shared.rejectionsLogged.isMultiple(of: 1000) {
                    rejections.append((sequence, ack))
                }
            }
            shared.status.acknowledged += records
            shared.rate.record(total: shared.status.acknowledged, at: now)
        }
        windowSignal.signal()
        if records > 0 { acknowledgeSignal.signal() }
        for (sequence, ack) in rejections {
            let reason = ack.properties.reasonString.map { " (\($0))" } ?? ""
            let code = "0x\(String(ack.reasonCode.rawValue, radix: 16)) \(ack.reasonCode)"
            logger.warning(
                "Uplink: \(endpoint) rejected record \(sequence) with reason code \(code)\(reason); it is not resent",
                metadata: ["uplink.error": "puback-rejected"]
            )
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
        let (resends, fresh, version) = shared.withLock {
            shared -> (InflightWindow.Batch, InflightWindow.Batch, MQTTProtocolVersion?) in
            guard shared.activeChannel == channelID else {
                return (InflightWindow.Batch(), InflightWindow.Batch(), nil)
            }
            let resends = shared.window.takeResends(now: wallNow)
            var fresh = InflightWindow.Batch()
            if !shared.stopping && shared.window.pendingResends == 0 {
                let limit = shared.window.readLimit(batch: batchSize)
                if limit > 0 && shared.readAhead.count > 0 {
                    let taken = shared.readAhead.take(limit)
                    fresh = shared.window.admit(Array(taken), now: wallNow)
                    // Whatever the window did not take goes back in front, still in order.
                    let lastRead = shared.window.lastRead
                    shared.readAhead.putBack(taken.drop { $0.sequence <= lastRead })
                }
                refetch = shared.readAhead.count < batchSize
            }
            return (resends, fresh, shared.window.link?.version)
        }
        if refetch { fetchSignal.signal() }
        guard let version else { return nil }
        var finished = resends.finished + fresh.finished
        let dropped = resends.dropped + fresh.dropped
        var buffer = channel.allocator.buffer(capacity: 64 * (resends.publishes.count + fresh.publishes.count))
        var written = (resends: 0, fresh: 0)
        var unencodable = 0
        for (index, packet) in (resends.publishes + fresh.publishes).enumerated() {
            do {
                try MQTTPacket.publish(packet).encode(into: &buffer, version: version)
                if index < resends.publishes.count { written.resends += 1 } else { written.fresh += 1 }
            } catch {
                // Only properties beyond MQTT's field limits get here; the record can never be sent.
                logger.warning(
                    "Uplink drops a record it cannot encode for topic \(packet.topic): \(error)",
                    metadata: ["uplink.error": "encode"]
                )
                unencodable += 1
                if let identifier = packet.packetIdentifier,
                    let sequence = shared.withLock({ $0.window.abandon(identifier) })
                {
                    finished.append(sequence)
                }
            }
        }
        if !dropped.isEmpty { logDrops(dropped) }
        let sentAt = clock.now()
        let bytes = buffer.readableBytes
        shared.withLock { shared in
            shared.pendingAcknowledgements.append(contentsOf: finished)
            shared.status.dropped += dropped.count + unencodable
            shared.status.published += written.fresh
            shared.status.resent += written.resends
            shared.status.bytesSent += bytes
            if bytes > 0 { shared.keepAlive?.sent(at: sentAt) }
        }
        if !finished.isEmpty { acknowledgeSignal.signal() }
        return bytes > 0 ? buffer : nil
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
