/// The times of recent events (crashes, credit violations) within a sliding window, for "more than
/// `limit` within `window`" decisions. Keeps at most `limit + 1` timestamps, so its memory is bounded
/// whatever the event rate.
struct EventWindow: Sendable, Hashable {
    /// Events beyond this many within the window trip the decision; clamped to 0...65535.
    let limit: Int
    /// The window's length in nanoseconds.
    let window: UInt64
    /// The kept timestamps, oldest first.
    private(set) var times: [UInt64] = []

    /// Creates an empty window.
    init(limit: Int, window: Duration) {
        self.limit = min(max(0, limit), 65_535)
        self.window = PluginSupervisor.nanoseconds(window)
    }

    /// Records an event at `now` and returns how many events (this one included) lie within the window.
    mutating func record(_ now: UInt64) -> Int {
        // An event exactly `window` old has left the window.
        times.removeAll { now >= $0 && now - $0 >= window }
        times.append(now)
        // Only whether the count exceeds `limit` matters, so older entries beyond `limit + 1` can go.
        if times.count > limit + 1 { times.removeFirst(times.count - (limit + 1)) }
        return times.count
    }

    /// Whether `count` events trip the decision.
    func exceeded(_ count: Int) -> Bool { count > limit }

    /// Forgets every event.
    mutating func removeAll() { times.removeAll() }
}
