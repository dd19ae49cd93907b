public import NIOCore
import Synchronization
public import WharfCore

/// An `UplinkQueue` held in memory: for tests, benchmarks and setups that accept losing the backlog.
public final class InMemoryUplinkQueue: UplinkQueue {
    private struct State {
        /// Every sequence appended and possibly not yet acknowledged, increasing; `head` skips a consumed front.
        var order: [Int64] = []
        var head = 0
        var records: [Int64: UplinkItem] = [:]
        var lastSequence: Int64 = 0
        var acknowledged = 0
        var deadLetters: [(item: UplinkItem, letter: UplinkDeadLetter)] = []
    }

    private let state = Mutex(State())
    private let appended = AsyncSignal()

    /// Creates an empty queue.
    public init() {}

    /// Appends a record and returns its sequence number (1, 2, 3, ...).
    @discardableResult
    public func append(
        topic: String,
        payload: ByteBuffer,
        qos: QoS = .atLeastOnce,
        retain: Bool = false,
        properties: MessageProperties = MessageProperties(),
        expiresAt: Int64? = nil
    ) -> Int64 {
        let sequence = state.withLock { state in
            state.lastSequence += 1
            let item = UplinkItem(
                sequence: state.lastSequence, topic: topic, payload: payload, qos: qos, retain: retain,
                properties: properties, expiresAt: expiresAt)
            state.order.append(item.sequence)
            state.records[item.sequence] = item
            return item.sequence
        }
        appended.signal()
        return sequence
    }

    /// The number of records not yet acknowledged.
    public var count: Int { state.withLock { $0.records.count } }

    /// The number of records acknowledged (deleted) so far.
    public var acknowledgedCount: Int { state.withLock { $0.acknowledged } }

    /// The records not yet acknowledged, in sequence order.
    public var pending: [UplinkItem] {
        state.withLock { state in state.order[state.head...].compactMap { state.records[$0] } }
    }

    /// Up to `limit` records after `sequence`, in order.
    public func read(after sequence: Int64, limit: Int) async throws -> [UplinkItem] {
        state.withLock { state in
            var result: [UplinkItem] = []
            result.reserveCapacity(min(max(limit, 0), 1024))
            var index = Self.firstIndex(in: state.order, from: state.head, after: sequence)
            while index < state.order.count && result.count < limit {
                if let item = state.records[state.order[index]] { result.append(item) }
                index += 1
            }
            return result
        }
    }

    /// Deletes the named records.
    public func acknowledge(_ sequences: [Int64]) async throws {
        state.withLock { state in
            for sequence in sequences where state.records.removeValue(forKey: sequence) != nil {
                state.acknowledged += 1
            }
            // Acknowledgements mostly arrive in order, so trimming the front keeps `order` short.
            while state.head < state.order.count && state.records[state.order[state.head]] == nil {
                state.head += 1
            }
            if state.head > 4096 && state.head * 2 > state.order.count {
                state.order.removeFirst(state.head)
                state.head = 0
            }
        }
    }

    /// Records moved to the dead-letter table, oldest first, with why.
    public var deadLetters: [(item: UplinkItem, letter: UplinkDeadLetter)] { state.withLock { $0.deadLetters } }

    /// Moves the named records to the dead letters (kept in memory, unbounded: this queue is for tests).
    public func deadLetter(_ letters: [UplinkDeadLetter]) async throws {
        let moved = state.withLock { state -> [Int64] in
            var moved: [Int64] = []
            for letter in letters {
                guard let item = state.records[letter.sequence] else { continue }
                state.deadLetters.append((item, letter))
                moved.append(letter.sequence)
            }
            return moved
        }
        // Removing is the same bookkeeping as an acknowledgement, minus the count.
        try await acknowledge(moved)
        state.withLock { $0.acknowledged -= moved.count }
    }

    /// Returns once a record after `sequence` exists, or when cancelled.
    public func waitForAppend(after sequence: Int64) async {
        while !Task.isCancelled {
            if state.withLock({ $0.lastSequence > sequence }) { return }
            await appended.wait()
        }
    }

    /// The index of the first sequence greater than `sequence` (binary search; `order` is increasing).
    private static func firstIndex(in order: [Int64], from start: Int, after sequence: Int64) -> Int {
        var low = start
        var high = order.count
        while low < high {
            let middle = low + (high - low) / 2
            if order[middle] <= sequence { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
