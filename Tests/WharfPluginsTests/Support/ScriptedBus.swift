import AdapterKit
import Synchronization
import WharfCore

/// A message bus whose answers the test decides: each publish is either refused at once, accepted
/// at once, or held until the test completes it (a forward rule's durable append).
final class ScriptedBus: MessageBus {
    enum Mode: Sendable { case accept, hold, refuse(PublishError) }

    private struct State {
        var mode: Mode = .accept
        var published: [Message] = []
        var held: [@Sendable (Result<PublishReceipt, PublishError>) -> Void] = []
        var handlers: [(filter: String, handler: @Sendable (Message) -> Void)] = []
        var refusedFilters: Set<String> = []
    }

    private let state = Mutex(State())

    func setMode(_ mode: Mode) { state.withLock { $0.mode = mode } }
    func refuseSubscriptions(to filter: String) { state.withLock { _ = $0.refusedFilters.insert(filter) } }
    var published: [Message] { state.withLock { $0.published } }
    var heldCount: Int { state.withLock { $0.held.count } }
    var subscribedFilters: [String] { state.withLock { $0.handlers.map(\.filter) } }

    /// Completes the oldest held publish successfully.
    func completeOldest() {
        let completion = state.withLock { $0.held.isEmpty ? nil : $0.held.removeFirst() }
        completion?(.success(PublishReceipt(matchedSubscribers: 1)))
    }

    /// Delivers `message` to every handler, as the router would for a matching topic.
    func deliver(_ message: Message) {
        for entry in state.withLock({ $0.handlers }) { entry.handler(message) }
    }

    func publish(_ message: Message) async throws(PublishError) -> PublishReceipt {
        PublishReceipt(matchedSubscribers: 0)
    }

    func publish(
        _ message: Message,
        completion: @escaping @Sendable (Result<PublishReceipt, PublishError>) -> Void
    ) -> PublishProgress {
        state.withLock { state in
            state.published.append(message)
            switch state.mode {
            case .accept: return .finished(.success(PublishReceipt(matchedSubscribers: 1)))
            case .refuse(let error): return .finished(.failure(error))
            case .hold:
                state.held.append(completion)
                return .waiting
            }
        }
    }

    func subscribe(filter: String, qos: QoS, principal: Principal, handler: @escaping @Sendable (Message) -> Void)
        throws(SubscribeError) -> BusSubscription
    {
        let refused = state.withLock { state -> Bool in
            if state.refusedFilters.contains(filter) { return true }
            state.handlers.append((filter, handler))
            return false
        }
        if refused { throw SubscribeError(message: "not authorized to subscribe to '\(filter)'") }
        return BusSubscription { [weak self] in
            self?.state.withLock { $0.handlers.removeAll { $0.filter == filter } }
        }
    }

    func retainedMessages(matching filter: String, principal: Principal) throws(SubscribeError) -> [Message] { [] }
}
