import Synchronization

/// Carries items from a line's thread to the task that publishes them, without blocking the thread.
///
/// `push` only appends (or hands the item straight to a waiting consumer), so a poll never waits
/// for publishing. The bound is enforced by the producer: it checks `hasRoom` before its next poll
/// and waits for `onRoom`, which runs when the consumer takes items from a full handoff. Memory is
/// therefore bounded by `limit` pending items plus those being published.
final class ModbusHandoff<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var waiter: CheckedContinuation<[Element]?, Never>?
        var finished = false
    }

    private enum Taken {
        case items([Element], wasFull: Bool)
        case end
        case parked
    }

    /// How many items may be pending before `hasRoom` turns false.
    let limit: Int
    private let state = Mutex(State())
    private let onRoom: @Sendable () -> Void

    /// A handoff that holds up to `limit` pending items; `onRoom` wakes the producer.
    init(limit: Int, onRoom: @escaping @Sendable () -> Void = {}) {
        self.limit = max(1, limit)
        self.onRoom = onRoom
    }

    /// Appends `item`, waking the consumer if it waits; false (item dropped) once finished.
    @discardableResult
    func push(_ item: Element) -> Bool {
        let outcome: (accepted: Bool, waiter: CheckedContinuation<[Element]?, Never>?) = state.withLock { state in
            guard !state.finished else { return (false, nil) }
            if let waiter = state.waiter {
                state.waiter = nil
                return (true, waiter)
            }
            state.items.append(item)
            return (true, nil)
        }
        outcome.waiter?.resume(returning: [item])
        return outcome.accepted
    }

    /// The number of items not yet taken by the consumer.
    var pending: Int { state.withLock { $0.items.count } }

    /// Whether the producer may go on: fewer than `limit` items are pending.
    var hasRoom: Bool { pending < limit }

    /// Takes every pending item, oldest first, waiting for one if there is none; nil once finished
    /// and empty.
    func next() async -> [Element]? {
        await withCheckedContinuation { continuation in
            let taken: Taken = state.withLock { state in
                if !state.items.isEmpty {
                    let wasFull = state.items.count >= limit
                    defer { state.items.removeAll(keepingCapacity: true) }
                    return .items(state.items, wasFull: wasFull)
                }
                if state.finished { return .end }
                state.waiter = continuation
                return .parked
            }
            switch taken {
            case .items(let items, let wasFull):
                continuation.resume(returning: items)
                if wasFull { onRoom() }
            case .end:
                continuation.resume(returning: nil)
            case .parked:
                break
            }
        }
    }

    /// Refuses further items; the consumer still takes what is pending, then gets nil.
    func finish() {
        let waiter = state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }
}
