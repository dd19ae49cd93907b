import Synchronization

/// The last hour of samples for `GET /api/v1/history`, handed to the event streams as they are
/// taken. ``HistorySampler`` fills it; thread-safe.
public final class History: Sendable {
    private let recorder: Mutex<HistoryRecorder>
    private let listeners = Listeners<HistorySample>()
    /// The time between samples.
    public let interval: Duration

    /// An empty history sampled every `interval`.
    public init(interval: Duration) {
        let recorder = HistoryRecorder(interval: interval)
        self.interval = recorder.interval
        self.recorder = Mutex(recorder)
    }

    /// How many samples it keeps: one hour's worth.
    public var capacity: Int { recorder.withLock { $0.samples.capacity } }

    /// The samples kept, oldest first.
    public var samples: [HistorySample] { recorder.withLock { $0.samples.elements } }

    /// Takes the first reading; see ``HistoryRecorder/start(_:at:)``.
    func start(_ counters: HistoryCounters, at time: Duration) {
        recorder.withLock { $0.start(counters, at: time) }
    }

    /// Records a sample and hands it to the listeners; see ``HistoryRecorder/record(_:at:wallMilliseconds:)``.
    @discardableResult
    func record(_ counters: HistoryCounters, at time: Duration, wallMilliseconds: Int64) -> HistorySample {
        let sample = recorder.withLock { $0.record(counters, at: time, wallMilliseconds: wallMilliseconds) }
        listeners.yield(sample)
        return sample
    }

    /// The samples taken from now on (at most `buffer` waiting), until the stream is dropped or ended.
    public func newSamples(buffer: Int = 8) -> AsyncStream<HistorySample> {
        listeners.stream(buffer: buffer)
    }

    /// How many listeners there are.
    var listenerCount: Int { listeners.count }
}
