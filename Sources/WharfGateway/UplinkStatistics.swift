import Store
import Uplink
import WharfCore

/// The uplink's and the queue's counters as `$SYS/broker/uplink/...` and
/// `$SYS/broker/queue/...` values, so operators (and tests) can read them with any MQTT client.
enum UplinkStatistics {
    static func systemTopics(uplink: UplinkStatus, queue: ForwardQueue, wallClock: any WallClock) -> [(String, String)]
    {
        let statistics = queue.statistics
        let oldestAge = statistics.oldestEnqueuedAt.map { max(0, wallClock.millisecondsSinceEpoch() - $0) / 1000 }
        var topics: [(String, String)] = [
            ("$SYS/broker/uplink/state", uplink.state.rawValue),
            ("$SYS/broker/uplink/reconnects", "\(uplink.reconnects)"),
            ("$SYS/broker/uplink/last error", uplink.lastError ?? ""),
            ("$SYS/broker/uplink/messages/in flight", "\(uplink.inFlight)"),
            ("$SYS/broker/uplink/messages/published", "\(uplink.published)"),
            ("$SYS/broker/uplink/messages/resent", "\(uplink.resent)"),
            ("$SYS/broker/uplink/messages/acknowledged", "\(uplink.acknowledged)"),
            ("$SYS/broker/uplink/messages/received", "\(uplink.received)"),
            ("$SYS/broker/uplink/bytes/sent", "\(uplink.bytesSent)"),
            ("$SYS/broker/uplink/bytes/received", "\(uplink.bytesReceived)"),
            ("$SYS/broker/uplink/drain rate", "\(Int(uplink.drainRatePerSecond.rounded()))"),
            ("$SYS/broker/queue/depth", "\(statistics.depth)"),
            ("$SYS/broker/queue/bytes", "\(statistics.bytes)"),
            ("$SYS/broker/queue/oldest age", oldestAge.map { "\($0) seconds" } ?? "0 seconds"),
            ("$SYS/broker/queue/appended", "\(statistics.appended)"),
            ("$SYS/broker/queue/commits", "\(statistics.commits)"),
        ]
        let refusals = uplink.refusals
        topics += [
            ("$SYS/broker/uplink/refusals/transient", "\(refusals.transient.values.reduce(0, +))"),
            ("$SYS/broker/uplink/refusals/permanent", "\(refusals.permanent.values.reduce(0, +))"),
            ("$SYS/broker/uplink/throttle/pauses", "\(refusals.pauses)"),
            ("$SYS/broker/uplink/throttle/window", "\(refusals.window)"),
            ("$SYS/broker/uplink/maximum qos blocked", refusals.heldByMaximumQoS ? "1" : "0"),
            ("$SYS/broker/uplink/refusals/local", "\(uplink.limits.deadLetteredTotal)"),
            ("$SYS/broker/uplink/limits/rate waits", "\(uplink.limits.rateWaits)"),
            ("$SYS/broker/queue/dead letters", "\(statistics.deadLetters)"),
        ]
        for reason in ForwardDropReason.allCases {
            topics.append(("$SYS/broker/queue/dropped/\(reason.rawValue)", "\(statistics.drops(reason))"))
        }
        return topics
    }
}
