import Logging
import MQTTCodec
import NIOCore
import Synchronization
import WharfCore

extension UplinkService {
    /// Drains the queue over `link` until the link fails, or until a stop, which ends with the goodbye.
    func sendUntilStopped(on link: UplinkLink) async {
        let stopped = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                do {
                    try await self.sendLoop(on: link)
                } catch is CancellationError {
                } catch {
                    link.fail(self.describing(error))
                }
                return false
            }
            group.addTask {
                await self.stopSignal.wait()
                return self.stopSignal.isClosed
            }
            let first = await group.next() ?? false
            group.cancelAll()
            await group.waitForAll()
            return first
        }
        if stopped && link.outcome == nil { await sayGoodbye(on: link) }
    }

    /// Resends what the reconnect left unacknowledged, then reads newer records as the window allows.
    private func sendLoop(on link: UplinkLink) async throws {
        let batchSize = max(1, configuration.readBatch)
        while true {
            try Task.checkCancellation()
            let now = wallClock()
            let (resends, readLimit, lastRead, resendsLeft) = shared.withLock { shared in
                let resends = shared.window.takeResends(now: now)
                return (
                    resends, shared.window.readLimit(batch: batchSize), shared.window.lastRead,
                    shared.window.pendingResends
                )
            }
            if !resends.isEmpty {
                try await transmit(resends, on: link)
                continue
            }
            if resendsLeft > 0 || readLimit == 0 {
                await windowSignal.wait()
                continue
            }
            let items: [UplinkItem]
            do {
                items = try await queue.read(after: lastRead, limit: readLimit)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // Reconnecting would not help a failing queue: report it and try again shortly.
                logger.error("Uplink cannot read the queue: \(error)", metadata: ["uplink.error": "queue-read"])
                shared.withLock { $0.status.lastError = "cannot read the queue: \(error)" }
                try await Task.sleep(for: .seconds(1))
                continue
            }
            if items.isEmpty {
                await queue.waitForAppend(after: lastRead)
                continue
            }
            let admitted = shared.withLock { $0.window.admit(items, now: wallClock()) }
            try await transmit(admitted, on: link)
        }
    }

    /// Writes a batch of publishes as one buffer and hands its finished records to the queue.
    private func transmit(_ batch: InflightWindow.Batch, on link: UplinkLink) async throws {
        var finished = batch.finished
        var buffer = link.channel.allocator.buffer(capacity: 64 * max(1, batch.publishes.count))
        var written = 0
        for packet in batch.publishes {
            do {
                try MQTTPacket.publish(packet).encode(into: &buffer, version: link.parameters.version)
                written += 1
            } catch {
                // Only properties beyond MQTT's field limits get here; the record can never be sent.
                logger.warning(
                    "Uplink drops a record it cannot encode for topic \(packet.topic): \(error)",
                    metadata: ["uplink.error": "encode"]
                )
                let sequence = packet.packetIdentifier.flatMap { identifier in
                    shared.withLock { $0.window.abandon(identifier) }
                }
                if let sequence { finished.append(sequence) }
                shared.withLock { $0.status.dropped += 1 }
            }
        }
        if !batch.dropped.isEmpty { logDrops(batch.dropped) }
        if !finished.isEmpty {
            shared.withLock { shared in
                shared.pendingAcknowledgements.append(contentsOf: finished)
                shared.status.dropped += batch.dropped.count
            }
            acknowledgeSignal.signal()
        }
        guard written > 0 else { return }
        try await write(buffer, on: link)
        shared.withLock { shared in
            if batch.isResend {
                shared.status.resent += written
            } else {
                shared.status.published += written
            }
        }
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

    /// The graceful end of a connection: let outstanding PUBACKs arrive, publish the retained "offline",
    /// wait for its PUBACK, then DISCONNECT normally so that the server drops the will.
    private func sayGoodbye(on link: UplinkLink) async {
        let timeout = UInt64(max(0, configuration.shutdownTimeout.milliseconds)) * 1_000_000
        let deadline = clock.now() &+ timeout
        await waitUntil(deadline) { $0.window.inFlight == 0 }
        var disconnect = DisconnectPacket()
        do {
            if let identifier = try await publishStatus("offline", on: link) {
                await waitUntil(deadline) { !$0.window.isOutstanding(identifier) }
            } else if link.parameters.version == .v5 {
                // No room in the server's window for the status publish: let the server send the will.
                disconnect = DisconnectPacket(reasonCode: .disconnectWithWill)
            }
            try await write([.disconnect(disconnect)], on: link)
        } catch {
            logger.info("Uplink could not say goodbye to \(endpoint): \(describing(error))")
        }
        logger.notice(
            "Uplink disconnected on request",
            metadata: ["uplink.state": "stopped", "uplink.unacknowledged": "\(shared.withLock { $0.window.inFlight })"]
        )
        link.finish()
    }

    /// Waits until `condition` holds on the shared state (re-checked at every PUBACK) or `deadline` passes.
    private func waitUntil(_ deadline: UInt64, _ condition: (SharedState) -> Bool) async {
        while !shared.withLock({ condition($0) }) {
            let now = clock.now()
            guard now < deadline, !Task.isCancelled else { return }
            await windowSignal.wait(timeout: .nanoseconds(Int64(clamping: deadline - now)))
        }
    }
}
