public import ServiceLifecycle
public import WharfCore

/// Fills a ``History``: one reading at start, then a sample every interval until graceful
/// shutdown. The clocks are injected, so tests drive it without waiting.
public struct HistorySampler: Service, CustomStringConvertible {
    let history: History
    let clock: any Clock<Duration>
    let wallClock: any WallClock
    let read: @Sendable () async -> HistoryCounters

    /// Samples into `history` what `read` returns; `clock` paces it, `wallClock` stamps the samples.
    public init(
        history: History, clock: any Clock<Duration> = ContinuousClock(), wallClock: any WallClock = SystemWallClock(),
        read: @escaping @Sendable () async -> HistoryCounters
    ) {
        self.history = history
        self.clock = clock
        self.wallClock = wallClock
        self.read = read
    }

    /// The name in service lifecycle logs.
    public var description: String { "HistorySampler" }

    /// Samples until graceful shutdown or cancellation.
    public func run() async throws {
        try await run(clock)
    }

    private func run<C: Clock<Duration>>(_ clock: C) async throws {
        let origin = clock.now
        history.start(await read(), at: .zero)
        var next = origin.advanced(by: history.interval)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let deadline = next
            do {
                try await cancelWhenGracefulShutdown { try await clock.sleep(until: deadline, tolerance: nil) }
            } catch {
                return
            }
            let counters = await read()
            history.record(
                counters, at: origin.duration(to: clock.now), wallMilliseconds: wallClock.millisecondsSinceEpoch())
            // The next sample on the grid; after a long stall (a suspended machine), from now.
            next = next.advanced(by: history.interval)
            if next < clock.now { next = clock.now.advanced(by: history.interval) }
        }
    }
}
