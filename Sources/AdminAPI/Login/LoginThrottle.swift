/// Failed logins per peer: after `limit` failures within a minute from one peer (see
/// ``PeerIdentity/throttleKey``), its attempts are refused, without a password check, until that
/// minute is over. Pure: times are monotonic durations given by the caller.
///
/// Bounded: at most ``maxPeers`` peers are tracked; beyond, the one whose minute began first is
/// forgotten.
struct LoginThrottle {
    /// Failures taken per peer within ``window``.
    let limit: Int
    /// The time failures are counted over.
    static let window = Duration.seconds(60)
    /// The most peers tracked at once.
    static let maxPeers = 4096
    private var peers: [String: (since: Duration, failures: Int)] = [:]

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// How long `peer` must wait before it may try again, or `nil` when it may try now.
    func retryAfter(peer: String, now: Duration) -> Duration? {
        guard let entry = peers[peer], entry.failures >= limit else { return nil }
        let end = entry.since + Self.window
        return now < end ? end - now : nil
    }

    /// Counts a failed login of `peer` at `now`.
    mutating func failed(peer: String, now: Duration) {
        if var entry = peers[peer], now < entry.since + Self.window {
            entry.failures += 1
            peers[peer] = entry
            return
        }
        if peers.count >= Self.maxPeers {
            peers = peers.filter { now < $0.value.since + Self.window }
            if peers.count >= Self.maxPeers, let oldest = peers.min(by: { $0.value.since < $1.value.since }) {
                peers[oldest.key] = nil
            }
        }
        peers[peer] = (now, 1)
    }

    /// Forgets the failures of `peer` (after a successful login).
    mutating func succeeded(peer: String) {
        peers[peer] = nil
    }

    /// How many peers are tracked.
    var count: Int { peers.count }
}
