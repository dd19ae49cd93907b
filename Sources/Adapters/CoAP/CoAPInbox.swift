import AdapterKit
import CCoAP
import Synchronization
import WharfCore

#if canImport(Glibc)
    import Glibc
#endif

/// Work handed to the libcoap thread from other threads (publish completions, messages for
/// observers, commands). Posting from the libcoap thread itself never writes to the wake-up
/// descriptor: the loop drains the inbox before it sleeps again.
final class CoAPInbox: Sendable {
    /// One piece of work.
    enum Work: Sendable {
        /// The publish of request `id` finished.
        case published(id: UInt64?, error: PublishError?)
        /// A message arrived on an observed topic, for the observers of `observed`.
        case message(Message, observed: ObservedTopic)
        /// A message arrived on a device's command topic.
        case command(device: Int, Message)
        /// Stop the loop.
        case stop
    }

    private struct State {
        var items: [Work] = []
        var sleeping = false
        var closed = false
    }

    private let state = Mutex(State())
    /// The eventfd that wakes the loop from `poll`.
    let wakeFD: Int32

    init() {
        wakeFD = wharf_coap_eventfd()
    }

    deinit {
        if wakeFD >= 0 { _ = Glibc.close(wakeFD) }
    }

    /// Adds work and wakes the loop when it sleeps; `false` once the loop has ended.
    @discardableResult
    func post(_ work: Work) -> Bool {
        let (accepted, wake) = state.withLock { state in
            guard !state.closed else { return (false, false) }
            state.items.append(work)
            guard state.sleeping else { return (true, false) }
            state.sleeping = false
            return (true, true)
        }
        if wake { wharf_coap_wake(wakeFD) }
        return accepted
    }

    /// Refuses further work: the loop has ended.
    func close() {
        state.withLock { $0.closed = true }
    }

    /// Takes all waiting work.
    func take() -> [Work] {
        state.withLock { state in
            guard !state.items.isEmpty else { return [] }
            let items = state.items
            state.items.removeAll(keepingCapacity: true)
            return items
        }
    }

    /// Marks the loop as about to sleep; `false` (and no sleep) when work is waiting.
    func prepareToSleep() -> Bool {
        state.withLock { state in
            if !state.items.isEmpty { return false }
            state.sleeping = true
            return true
        }
    }

    /// Marks the loop as awake again and resets the eventfd when a poster wrote to it.
    func awake() {
        let woken = state.withLock { state -> Bool in
            // A poster that found the loop sleeping cleared the flag and wrote to the eventfd.
            let woken = !state.sleeping
            state.sleeping = false
            return woken
        }
        if woken { wharf_coap_drain(wakeFD) }
    }
}
