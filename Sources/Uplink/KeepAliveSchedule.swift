/// When the uplink must send PINGREQ and when a silent server counts as gone. Pure: times are
/// nanoseconds of a `WharfClock`, passed in.
///
/// MQTT requires the client to send some packet within every keep-alive interval; a PINGREQ goes out
/// once three quarters of it passed without one. A server that answers nothing (neither PINGRESP nor
/// anything else) for a whole interval after a PINGREQ is taken to be unreachable.
struct KeepAliveSchedule: Sendable, Hashable {
    /// What to do next.
    enum Action: Sendable, Hashable {
        /// Keep alive is off.
        case disabled
        /// Send PINGREQ now.
        case ping
        /// The server did not answer in time: close the connection.
        case timeout
        /// Nothing to do before this time.
        case sleep(until: UInt64)
    }

    /// The keep-alive interval in nanoseconds; 0 disables it.
    let interval: UInt64
    /// When we last sent a packet.
    private(set) var lastSent: UInt64
    /// When the unanswered PINGREQ went out; nil when none is outstanding.
    private(set) var pingSentAt: UInt64?

    /// Creates the schedule for a connection established at `now`.
    init(keepAlive seconds: UInt16, now: UInt64) {
        interval = UInt64(seconds) * 1_000_000_000
        lastSent = now
        pingSentAt = nil
    }

    /// A packet was written at `now`.
    mutating func sent(at now: UInt64) {
        lastSent = max(lastSent, now)
    }

    /// A PINGREQ was written at `now`.
    mutating func pinged(at now: UInt64) {
        sent(at: now)
        pingSentAt = now
    }

    /// A packet arrived from the server: it is alive.
    mutating func received() {
        pingSentAt = nil
    }

    /// The next action at `now`.
    func action(at now: UInt64) -> Action {
        guard interval > 0 else { return .disabled }
        if let pingSentAt {
            let deadline = pingSentAt &+ interval
            return now >= deadline ? .timeout : .sleep(until: deadline)
        }
        let due = lastSent &+ interval / 4 * 3
        return now >= due ? .ping : .sleep(until: due)
    }
}
