import Synchronization

/// A value set once it exists, for callbacks created before it: the broker's `onBound` callback is
/// made before the runtime (which needs the gateway the callback is given to), and the uplink's
/// control channel before the remote configuration host (which needs the runtime).
final class LateValue<Value: Sendable>: Sendable {
    private let storage = Mutex<Value?>(nil)

    /// The value, once set.
    var value: Value? {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}
