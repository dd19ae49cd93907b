/// The history's arithmetic, without clocks or locks: turns counter readings taken at known
/// times into samples (rates from the difference to the previous reading) and keeps the last
/// hour of them.
struct HistoryRecorder {
    /// The time between samples.
    let interval: Duration
    /// The samples kept, oldest first.
    private(set) var samples: BoundedRing<HistorySample>
    /// The previous reading and when it was taken (monotonic time).
    private var previous: (counters: HistoryCounters, at: Duration)?

    /// How long the history covers.
    static let window = Duration.seconds(3600)

    /// An empty history sampled every `interval` (at least a millisecond), covering ``window``.
    init(interval: Duration) {
        self.interval = max(interval, .milliseconds(1))
        samples = BoundedRing(capacity: Self.capacity(interval: self.interval))
    }

    /// How many samples cover ``window`` at `interval` (rounded up).
    static func capacity(interval: Duration) -> Int {
        let each = max(interval, .milliseconds(1))
        let whole = Int(Self.window / each)
        return Self.window > each * whole ? whole + 1 : whole
    }

    /// Takes the first reading, which rates of the first sample are measured from.
    mutating func start(_ counters: HistoryCounters, at time: Duration) {
        previous = (counters, time)
    }

    /// Records a sample from `counters` read at monotonic `time` and wall-clock `wallMilliseconds`,
    /// and returns it. Rates are over the time since the previous reading (0 for the first one, or
    /// when a counter went back, as after a restart of what counts).
    @discardableResult
    mutating func record(_ counters: HistoryCounters, at time: Duration, wallMilliseconds: Int64) -> HistorySample {
        var inRate = 0.0
        var outRate = 0.0
        if let previous, time > previous.at {
            let seconds = Self.seconds(time - previous.at)
            inRate = Self.rate(from: previous.counters.messagesReceived, to: counters.messagesReceived, over: seconds)
            outRate = Self.rate(from: previous.counters.messagesSent, to: counters.messagesSent, over: seconds)
        }
        previous = (counters, time)
        let sample = HistorySample(
            time: RFC3339Time.format(millisecondsSinceEpoch: wallMilliseconds),
            messagesInPerSecond: inRate,
            messagesOutPerSecond: outRate,
            queueDepth: counters.queueDepth,
            queueBytes: counters.queueBytes,
            connectedClients: counters.connectedClients
        )
        samples.append(sample)
        return sample
    }

    /// The rate of a counter, to two decimals; 0 when it went back.
    static func rate(from old: Int, to new: Int, over seconds: Double) -> Double {
        guard new >= old, seconds > 0 else { return 0 }
        return (Double(new - old) / seconds * 100).rounded() / 100
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
