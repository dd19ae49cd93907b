import Logging
import Synchronization
import WharfCore

extension UplinkService {
    /// Moves the records the cloud refused for good to the dead-letter table; false (kept for later) if
    /// the queue failed. Runs before acknowledgements are flushed, from the same loop.
    func flushDeadLetters() async -> Bool {
        let letters = shared.withLock { shared -> [UplinkDeadLetter] in
            defer { shared.pendingDeadLetters.removeAll(keepingCapacity: true) }
            return shared.pendingDeadLetters
        }
        guard !letters.isEmpty else { return true }
        do {
            try await queue.deadLetter(letters)
            return true
        } catch {
            logger.error(
                "Uplink cannot move \(letters.count) refused records to the dead-letter table: \(error)",
                metadata: ["uplink.error": "dead-letter"]
            )
            shared.withLock { $0.pendingDeadLetters.insert(contentsOf: letters, at: 0) }
            return false
        }
    }

    /// A DISCONNECT from the cloud: a transient reason code (busy, shutting down, rate or quota) also
    /// throttles the next connection's sending, as a transient PUBACK would.
    func noteDisconnect(_ code: UInt8) {
        guard configuration.refusals.isTransientDisconnect(code) else { return }
        let now = clock.now()
        shared.withLock { shared in
            shared.status.refusals.transientDisconnects[code, default: 0] += 1
            shared.throttle.refused(at: now)
            shared.window.setLimit(shared.throttle.window)
        }
    }
}
