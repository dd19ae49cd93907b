import Synchronization

/// Runs a no-op round trip through a part of the daemon (an event loop, the store writer) with
/// a time bound. A round trip still pending from an earlier probe counts as a failure at once,
/// so a hung part never piles up waiting probes.
final class HealthProbe: Sendable {
    private let pending = Atomic<Bool>(false)
    private let timeout: Duration
    private let work: @Sendable () async -> Void

    init(timeout: Duration, work: @escaping @Sendable () async -> Void) {
        self.timeout = timeout
        self.work = work
    }

    /// True when `work` finished within the time bound.
    func answers() async -> Bool {
        guard pending.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return false
        }
        let outcome = OnceFlag()
        let work = self.work
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let timer = Task {
                try? await Task.sleep(for: timeout)
                if outcome.claim() { continuation.resume(returning: false) }
            }
            // Unstructured on purpose: a hung part must not hold up the caller past the bound.
            Task {
                await work()
                self.pending.store(false, ordering: .releasing)
                if outcome.claim() {
                    timer.cancel()
                    continuation.resume(returning: true)
                }
            }
        }
    }
}

/// True for the first caller only.
private final class OnceFlag: Sendable {
    private let taken = Atomic<Bool>(false)

    func claim() -> Bool {
        taken.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    }
}
