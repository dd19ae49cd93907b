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
                    try await self.fetchLoop(on: link)
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

    /// Keeps the read-ahead filled from the queue and wakes the event loop to send what fits the window.
    ///
    /// Retransmissions left by the reconnect go first; the event loop sends them with the first pump.
    private func fetchLoop(on link: UplinkLink) async throws {
        let batchSize = max(1, configuration.readBatch)
        pump(link)
        while true {
            try Task.checkCancellation()
            let (wanted, after) = shared.withLock { ($0.readAhead.count < batchSize, $0.readAhead.fetchedThrough) }
            if !wanted {
                await fetchSignal.wait()
                continue
            }
            let items: [UplinkItem]
            do {
                items = try await queue.read(after: after, limit: batchSize)
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
                await queue.waitForAppend(after: after)
                continue
            }
            shared.withLock { $0.readAhead.append(items) }
            pump(link)
        }
    }

    /// Asks the event loop to send what the window allows.
    private func pump(_ link: UplinkLink) {
        link.channel.pipeline.fireUserInboundEventTriggered(UplinkPumpEvent())
    }

    /// The graceful end of a connection: let outstanding PUBACKs arrive, publish the retained "offline",
    /// wait for its PUBACK, then DISCONNECT normally so that the server drops the will. `ending` says
    /// why (a stop, or a failback).
    func sayGoodbye(on link: UplinkLink, ending: UplinkLink.Ending = .stopped) async {
        let timeout = UInt64(max(0, configuration.shutdownTimeout.milliseconds)) * 1_000_000
        let deadline = clock.now() &+ timeout
        shared.withLock { $0.stopping = true }
        await waitUntil(deadline) { $0.window.inFlight == 0 }
        var disconnect = DisconnectPacket()
        do {
            switch try await publishStatus("offline", on: link) {
            case .awaiting(let identifier):
                await waitUntil(deadline) { !$0.window.isOutstanding(identifier) }
            case .sent:
                break
            case .windowFull where link.parameters.version == .v5:
                // No room in the server's window for the status publish: let the server send the will.
                disconnect = DisconnectPacket(reasonCode: .disconnectWithWill)
            case .windowFull:
                break
            }
            try await write([.disconnect(disconnect)], on: link)
        } catch {
            logger.info("Uplink could not say goodbye to \(endpoint): \(describing(error))")
        }
        // Records still unacknowledged stay in the queue and go out again on the next connection.
        let reason = if case .failback = ending { "to go back to the preferred endpoint" } else { "on request" }
        logger.info(
            "Uplink disconnected from \(endpoint) \(reason)",
            metadata: ["uplink.unacknowledged": "\(shared.withLock { $0.window.inFlight })"]
        )
        link.end(ending)
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
