import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs blocking `work` on a new thread and returns its result, so that neither the cooperative
/// pool nor a shared blocking pool waits on a file system or a name server.
func onDedicatedThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        spawnThread { continuation.resume(returning: work()) }
    }
}

/// Runs blocking `work` on a new thread; returns its result, or nil as soon as the task is cancelled
/// (the thread then finishes on its own and its result is dropped).
func abandonable<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T? {
    let answer = OneAnswer<T?>()
    return await withTaskCancellationHandler {
        await withCheckedContinuation { continuation in
            guard answer.wait(continuation) else { return }
            spawnThread { answer.give(work()) }
        }
    } onCancel: {
        answer.give(nil)
    }
}

/// A continuation resumed by whichever of its two sources answers first (the work or the
/// cancellation), exactly once, whichever order they and the waiter arrive in.
private final class OneAnswer<T: Sendable>: Sendable {
    private enum State {
        case empty
        case waiting(CheckedContinuation<T, Never>)
        case answered(T)
        case done
    }

    private let state = Mutex(State.empty)

    /// Registers the waiter; false when the answer was already there (the waiter is then resumed).
    func wait(_ continuation: CheckedContinuation<T, Never>) -> Bool {
        let early: T? = state.withLock { state in
            guard case .answered(let value) = state else {
                state = .waiting(continuation)
                return nil
            }
            state = .done
            return value
        }
        guard let early else { return true }
        continuation.resume(returning: early)
        return false
    }

    /// Delivers `value` unless an answer was already given.
    func give(_ value: T) {
        let waiter: CheckedContinuation<T, Never>? = state.withLock { state in
            switch state {
            case .empty:
                state = .answered(value)
                return nil
            case .waiting(let continuation):
                state = .done
                return continuation
            case .answered, .done:
                return nil
            }
        }
        waiter?.resume(returning: value)
    }
}

/// The body of a thread, passed through pthread's `void *`.
private final class ThreadBody {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

/// Starts a detached thread that runs `body`.
private func spawnThread(_ body: @escaping @Sendable () -> Void) {
    let argument = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    #if canImport(Darwin)
        var thread: pthread_t?
    #else
        var thread = pthread_t()
    #endif
    let result = pthread_create(
        &thread,
        nil,
        { argument in
            guard let argument else { return nil }
            Unmanaged<ThreadBody>.fromOpaque(argument).takeRetainedValue().body()
            return nil
        },
        argument
    )
    guard result == 0 else {
        // No thread (the system is out of them): answer late rather than never.
        Unmanaged<ThreadBody>.fromOpaque(argument).takeRetainedValue().body()
        return
    }
    #if canImport(Darwin)
        if let thread { pthread_detach(thread) }
    #else
        pthread_detach(thread)
    #endif
}
