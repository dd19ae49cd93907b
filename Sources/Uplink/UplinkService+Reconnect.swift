import Logging
import Synchronization
import WharfCore

extension UplinkService {
    /// How one connection ended.
    enum ConnectionOutcome: Sendable {
        /// Stopped on request, after the goodbye.
        case stopped
        /// Closed after the goodbye to go back to the preferred endpoint.
        case failback
        /// Lost or never established.
        case failed(UplinkError)
    }

    /// Connects, and after every loss connects again (to the next endpoint at once, or after a backoff
    /// delay once every endpoint has been tried: see `EndpointSelector`), until stopped or cancelled.
    func connectionLoop() async {
        var schedule = ReconnectSchedule(policy: configuration.backoff, seed: seed)
        var selector = EndpointSelector(
            count: configuration.endpoints.count, failback: configuration.failback,
            stableAfter: configuration.backoff.stableAfter)
        while !stopSignal.isClosed && !Task.isCancelled {
            let index = selector.current
            let target =
                configuration.endpoints.indices.contains(index)
                ? configuration.endpoints[index] : configuration.preferred
            shared.withLock { shared in
                shared.endpointIndex = index
                shared.status.endpoint = target.description
            }
            transition(to: .connecting, attempt: schedule.attempt, details: ["uplink.endpoint": "\(target)"])
            let outcome = await connect(to: target, schedule: &schedule, selector: &selector)
            let now = clock.now()
            schedule.disconnected(at: now)
            let error: UplinkError
            switch outcome {
            case .stopped:
                return
            case .failback:
                selector.failBack()
                continue
            case .failed(let failure):
                error = failure
            }
            if stopSignal.isClosed || Task.isCancelled { break }
            shared.withLock { $0.status.lastError = error.message }
            logger.error(
                "Uplink connection failed: \(error.message)",
                metadata: [
                    "uplink.error": "\(error.kind)", "uplink.attempt": "\(schedule.attempt)",
                    "uplink.endpoint": "\(target)",
                ]
            )
            if selector.ended(at: now) == .now {
                // Another endpoint has not been tried in this round: no reason to wait before trying it.
                shared.withLock { $0.status.reconnects += 1 }
                continue
            }
            let attempt = schedule.attempt
            let ceiling = schedule.ceiling
            let delay = schedule.nextDelay()
            transition(to: .backingOff, attempt: attempt, delay: delay, ceiling: ceiling)
            await stopSignal.wait(timeout: delay)
            shared.withLock { $0.status.reconnects += 1 }
        }
    }

    /// Records a state change and logs it at notice level.
    func transition(
        to state: UplinkLinkState,
        attempt: Int? = nil,
        delay: Duration? = nil,
        ceiling: Duration? = nil,
        details: Logger.Metadata = [:]
    ) {
        let now = clock.now()
        shared.withLock { shared in
            shared.status.state = state
            shared.status.connectedSince = state == .connected ? now : nil
        }
        var metadata = details
        metadata["uplink.state"] = "\(state.rawValue)"
        if let attempt { metadata["uplink.attempt"] = "\(attempt)" }
        if let delay { metadata["uplink.delay_ms"] = "\(delay.milliseconds)" }
        if let ceiling { metadata["uplink.ceiling_ms"] = "\(ceiling.milliseconds)" }
        logger.notice("Uplink \(state.rawValue)", metadata: metadata)
    }

    /// Hands finished records to the queue in batches, for as long as the service runs.
    func acknowledgeLoop() async {
        while !Task.isCancelled {
            await acknowledgeSignal.wait()
            // Lingering a moment lets PUBACKs pile up: a durable queue deletes a batch in one transaction.
            try? await Task.sleep(for: .milliseconds(2))
            if Task.isCancelled { return }
            if await !flushAcknowledgements() {
                // The queue failed (full disk, locked database): try again shortly rather than spin.
                try? await Task.sleep(for: .milliseconds(500))
                acknowledgeSignal.signal()
            }
        }
    }

    /// Acknowledges every finished record to the queue; false (records kept for later) if the queue failed.
    @discardableResult
    func flushAcknowledgements() async -> Bool {
        guard await flushDeadLetters() else { return false }
        let batch = shared.withLock { shared -> [Int64] in
            defer { shared.pendingAcknowledgements.removeAll(keepingCapacity: true) }
            return shared.pendingAcknowledgements
        }
        guard !batch.isEmpty else { return true }
        do {
            try await queue.acknowledge(batch)
            return true
        } catch {
            logger.error(
                "Uplink cannot delete \(batch.count) delivered records from the queue: \(error)",
                metadata: ["uplink.error": "queue-acknowledge"]
            )
            shared.withLock { $0.pendingAcknowledgements.insert(contentsOf: batch, at: 0) }
            return false
        }
    }
}
