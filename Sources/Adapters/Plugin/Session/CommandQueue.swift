import DequeModule
import NIOCore
import Synchronization
import WharfCore

/// The messages from a plugin's subscriptions waiting to be written to its stdin, bounded by
/// count and bytes. Publishers push from their own threads; the plugin's event loop pops.
/// Nothing is queued while no ready plugin is there to read it.
final class CommandQueue: Sendable {
    /// What `push` did.
    enum Push: Equatable {
        /// Queued; when `scheduleDrain`, the caller must schedule a drain on the event loop.
        case queued(scheduleDrain: Bool)
        /// Refused: the queue was full, or no plugin is ready.
        case dropped
    }

    private struct State {
        var items = Deque<Message>()
        var bytes = 0
        var drainScheduled = false
        var open = false
    }

    let maxCount: Int
    let maxBytes: Int
    private let state = Mutex(State())

    init(maxCount: Int, maxBytes: Int) {
        self.maxCount = maxCount
        self.maxBytes = maxBytes
    }

    /// The bytes a message holds while queued.
    static func size(of message: Message) -> Int {
        message.payload.readableBytes + message.topic.utf8.count
    }

    /// Queues `message` if there is room and a plugin to read it.
    func push(_ message: Message) -> Push {
        let size = Self.size(of: message)
        return state.withLock { state in
            guard state.open, state.items.count < maxCount, state.bytes + size <= maxBytes else { return .dropped }
            state.items.append(message)
            state.bytes += size
            let schedule = !state.drainScheduled
            state.drainScheduled = true
            return .queued(scheduleDrain: schedule)
        }
    }

    /// The next message, or `nil` when the queue is empty (which ends the scheduled drain).
    func pop() -> Message? {
        state.withLock { state in
            guard let message = state.items.popFirst() else {
                state.drainScheduled = false
                return nil
            }
            state.bytes -= Self.size(of: message)
            return message
        }
    }

    /// Starts accepting messages (a plugin became ready).
    func open() {
        state.withLock { $0.open = true }
    }

    /// Stops accepting and empties the queue; returns how many were dropped.
    @discardableResult
    func close() -> Int {
        state.withLock { state in
            let dropped = state.items.count
            state = State()
            return dropped
        }
    }

    /// Messages waiting now.
    var count: Int { state.withLock { $0.items.count } }
}
