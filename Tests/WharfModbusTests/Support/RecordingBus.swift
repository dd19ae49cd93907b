import AdapterKit
import NIOCore
import Synchronization
import WharfCore

/// An in-memory MessageBus that records what is published and delivers to exact-topic subscribers.
final class RecordingBus: MessageBus {
    private struct State {
        var messages: [Message] = []
        var handlers: [(id: Int, filter: String, handler: @Sendable (Message) -> Void)] = []
        var nextID = 0
    }

    private let state = Mutex(State())

    func publish(_ message: Message) async throws(PublishError) -> PublishReceipt {
        let handlers = state.withLock { state in
            state.messages.append(message)
            return state.handlers.filter { $0.filter == message.topic }.map(\.handler)
        }
        for handler in handlers { handler(message) }
        return PublishReceipt(matchedSubscribers: handlers.count)
    }

    func subscribe(filter: String, qos: QoS, principal: Principal, handler: @escaping @Sendable (Message) -> Void)
        throws(SubscribeError)
        -> BusSubscription
    {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            state.handlers.append((state.nextID, filter, handler))
            return state.nextID
        }
        return BusSubscription { [weak self] in
            self?.state.withLock { $0.handlers.removeAll { $0.id == id } }
        }
    }

    func retainedMessages(matching filter: String, principal: Principal) throws(SubscribeError) -> [Message] { [] }

    /// Every message published so far.
    var messages: [Message] { state.withLock { $0.messages } }

    /// Number of live subscriptions.
    var subscriptionCount: Int { state.withLock { $0.handlers.count } }

    /// The payloads published to `topic`, as text.
    func payloads(on topic: String) -> [String] {
        messages.filter { $0.topic == topic }.map { String(buffer: $0.payload) }
    }

    /// Waits (up to `seconds`) until `condition` holds for the published messages.
    func waitFor(seconds: Double = 60, _ condition: ([Message]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition(messages) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition(messages)
    }
}
