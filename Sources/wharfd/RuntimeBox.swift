import Synchronization

/// Hands the runtime to the broker's `onBound` callback, which is created before the runtime
/// (the runtime needs the gateway the callback is given to).
final class RuntimeBox: Sendable {
    private let value = Mutex<DaemonRuntime?>(nil)

    var runtime: DaemonRuntime? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
