import Synchronization

/// Runs a no-op round trip through a part of the daemon (an event loop, the store writer) with
/// a time bound. At most a few round trips may be outstanding at once (a health scrape and a
/// watchdog check can overlap); beyond that the part is hung and the probe fails at once, so
/// waiting probes never pile up.
final class HealthProbe: Sendable {
    private let outstanding = Atomic<Int>(0)
    private static let maximumOutstanding = 4
    private let timeout: Duration
    private let work: @Sendable () async -> Void

    init(timeout: Duration, work: @escaping @Sendable () async -> Void) {
        self.timeout = timeout
        self.work = work
    }

    /// True when `work` finished within the time bound.
    func answers() async -> Bool {
        guard outstanding.add(1, ordering: .acquiringAndReleasing).newValue <= Self.maximumOutstanding else {
            outstanding.subtract(1, ordering: .acquiringAndReleasing)
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
                self.outstanding.subtract(1, ordering: .acquiringAndReleasing)
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
