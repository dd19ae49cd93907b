public import WharfCore

/// The in-process publish/subscribe API of the broker's router. Adapters, the uplink and
/// plugins publish and subscribe through it without a loopback socket.
///
/// Every call names its ``Principal``: a message carries the one that publishes it, and
/// subscribers and readers of retained messages give theirs. The router checks it against the
/// ACL and the principal's confinement before anything is routed or returned.
public protocol MessageBus: Sendable {
    /// Routes `message` to every matching subscriber (devices, adapters, uplink rules), once
    /// `message.principal` may publish to its topic (`not-authorized` otherwise).
    /// Returns once the message is accepted; for QoS 1/2 that includes any durability the
    /// router promises (for example a store-and-forward append).
    func publish(_ message: Message) async throws(PublishError) -> PublishReceipt

    /// Routes `message` on the calling thread, for adapters that run an event loop of their own
    /// and answer their devices from it. Returns `.finished` when the message is accepted (or
    /// refused) with nothing more to wait for. Returns `.waiting` when the router still has to
    /// keep a promise first (a forward rule's append to the durable queue); `completion` then
    /// runs exactly once, on any thread, when it is kept. `completion` never runs when the
    /// result is `.finished`.
    func publish(
        _ message: Message,
        completion: @escaping @Sendable (Result<PublishReceipt, PublishError>) -> Void
    ) -> PublishProgress

    /// Subscribes `handler` to `filter` on behalf of `principal`, which must be allowed to
    /// read some topic the filter matches; each message is delivered only when `principal` may
    /// read its topic. The handler runs on the publisher's thread and must return quickly; hand
    /// heavier work to your own task or queue.
    func subscribe(
        filter: String,
        qos: QoS,
        principal: Principal,
        handler: @escaping @Sendable (Message) -> Void
    ) throws(SubscribeError) -> BusSubscription

    /// The retained messages whose topics `filter` matches, that have not expired and that
    /// `principal` may read, sorted by topic (what a new MQTT subscriber to `filter` would
    /// receive first). Throws when `principal` may not subscribe to `filter` at all (so that an
    /// adapter can tell "forbidden" from "nothing retained").
    func retainedMessages(matching filter: String, principal: Principal) throws(SubscribeError) -> [Message]
}

extension MessageBus {
    /// Runs the `async` ``publish(_:)`` on a new task and always reports `.waiting`: for buses
    /// that cannot route on the caller's thread.
    public func publish(
        _ message: Message,
        completion: @escaping @Sendable (Result<PublishReceipt, PublishError>) -> Void
    ) -> PublishProgress {
        Task {
            do throws(PublishError) {
                completion(.success(try await publish(message)))
            } catch {
                completion(.failure(error))
            }
        }
        return .waiting
    }
}

extension MessageBus {
    /// ``publish(_:completion:)``, awaited: the `async` ``publish(_:)`` of a bus that implements
    /// the completion form itself (with the default completion form it would call itself).
    public func publishAwaitingCompletion(_ message: Message) async throws(PublishError) -> PublishReceipt {
        let result: Result<PublishReceipt, PublishError> = await withCheckedContinuation { continuation in
            let progress = publish(message) { continuation.resume(returning: $0) }
            if case .finished(let result) = progress { continuation.resume(returning: result) }
        }
        return try result.get()
    }
}

/// How far ``MessageBus/publish(_:completion:)`` got before it returned.
public enum PublishProgress: Sendable {
    /// The message was accepted or refused; the completion will not run.
    case finished(Result<PublishReceipt, PublishError>)
    /// The completion runs once the router has kept its promise.
    case waiting
}

/// What the router did with a published message.
public struct PublishReceipt: Sendable, Hashable {
    /// How many subscribers (sessions and in-process handlers) the message was routed to.
    public var matchedSubscribers: Int

    /// Creates a receipt.
    public init(matchedSubscribers: Int) {
        self.matchedSubscribers = matchedSubscribers
    }
}

/// Why the router refused a published message.
public struct PublishError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A short machine-readable reason (`topic-invalid`, `not-authorized`, `quota-exceeded`,
    /// `store-failed`).
    public var reason: String
    /// A sentence for logs.
    public var message: String

    /// Creates an error.
    public init(reason: String, message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { "\(reason): \(message)" }
}

/// Why a subscription was refused.
public struct SubscribeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A sentence for logs, naming the filter.
    public var message: String

    /// Creates an error.
    public init(message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// A live in-process subscription; `cancel()` removes it (idempotent).
public struct BusSubscription: Sendable {
    private let onCancel: @Sendable () -> Void

    /// Creates a subscription handle that runs `onCancel` when cancelled.
    public init(onCancel: @escaping @Sendable () -> Void) {
        self.onCancel = onCancel
    }

    /// Removes the subscription.
    public func cancel() {
        onCancel()
    }
}
