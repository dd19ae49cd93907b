import AdapterKit
import Synchronization
import WharfCore

/// A RecordingBus whose publishes from adapters wait while the gate is closed: a publisher that
/// falls behind. Messages from tests (commands) pass at once.
final class GatedBus: MessageBus {
    let recorder = RecordingBus()
    private let open = Mutex(false)

    /// Lets the waiting and later publishes through.
    func openGate() {
        open.withLock { $0 = true }
    }

    func publish(_ message: Message) async throws(PublishError) -> PublishReceipt {
        if case .adapter = message.principal.kind {
            while !open.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(2)) }
        }
        return try await recorder.publish(message)
    }

    func subscribe(filter: String, qos: QoS, principal: Principal, handler: @escaping @Sendable (Message) -> Void)
        throws(SubscribeError)
        -> BusSubscription
    {
        try recorder.subscribe(filter: filter, qos: qos, principal: principal, handler: handler)
    }

    func retainedMessages(matching filter: String, principal: Principal) throws(SubscribeError) -> [Message] { [] }
}
