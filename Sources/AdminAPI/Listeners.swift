import Synchronization

/// The streams that want each new element of a log ring or a history, for the event streams.
/// Each listener's buffer is bounded and drops its oldest element, so handing an element over
/// never waits and a listener that does not keep up costs no more than its buffer.
final class Listeners<Element: Sendable>: Sendable {
    private let entries = Mutex<(next: UInt64, continuations: [UInt64: AsyncStream<Element>.Continuation])>(
        (0, [:]))

    /// Hands `element` to every listener.
    func yield(_ element: Element) {
        let continuations = entries.withLock { Array($0.continuations.values) }
        // Outside the lock: a stream that ends during the loop removes itself without a deadlock.
        for continuation in continuations { continuation.yield(element) }
    }

    /// A new listener, until its stream is dropped or finished; it holds at most `buffer` elements.
    func stream(buffer: Int) -> AsyncStream<Element> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: Element.self, bufferingPolicy: .bufferingNewest(max(1, buffer)))
        let id = entries.withLock { entries in
            let id = entries.next
            entries.next += 1
            entries.continuations[id] = continuation
            return id
        }
        continuation.onTermination = { [weak self] _ in
            self?.entries.withLock { _ = $0.continuations.removeValue(forKey: id) }
        }
        return stream
    }

    /// How many listeners there are.
    var count: Int { entries.withLock { $0.continuations.count } }
}
