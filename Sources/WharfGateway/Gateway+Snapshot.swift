import Store
public import Uplink
import WharfCore

/// The store-and-forward queue at one moment, for metrics and status pages.
public struct QueueSnapshot: Sendable, Hashable {
    /// Records waiting to go upstream.
    public var depth: Int
    /// Their size in bytes.
    public var bytes: Int
    /// Age of the oldest record in seconds; 0 when the queue is empty.
    public var oldestAgeSeconds: Double
    /// Records appended since start.
    public var appended: Int
    /// Records removed after the cloud acknowledged them, since start.
    public var removed: Int
    /// Transactions committed since start.
    public var commits: Int
    /// Records dropped since start, by reason (`overflow-drop-oldest`, `expired`, `disk-full`, ...).
    public var dropped: [String: Int]
    /// Unreadable records found and deleted since start.
    public var corruptRecords: Int
    /// Database operations that failed since start.
    public var writeErrors: Int
    /// Rows in the dead-letter table.
    public var deadLetters = 0
    /// Bytes in the dead-letter table.
    public var deadLetterBytes = 0
    /// Records moved to the dead-letter table since start, by reason code (`0x87`).
    public var deadLettered: [String: Int] = [:]
    /// Dead letters deleted since start to keep the table within its bounds.
    public var deadLettersDropped = 0
}

/// The uplink at one moment, for metrics and status pages.
public struct UplinkSnapshot: Sendable, Hashable {
    /// `connecting`, `connected`, `backing-off` or `stopped`.
    public var state: String
    /// Reconnect attempts after a failed attempt or a lost link, since start.
    public var reconnects: Int
    /// Why the last attempt failed or the link dropped; nil while connected.
    public var lastError: String?
    /// QoS 1 publishes awaiting PUBACK.
    public var inFlight: Int
    /// Records published (first transmissions).
    public var published: Int
    /// Records resent after a reconnect.
    public var resent: Int
    /// Records the cloud acknowledged.
    public var acknowledged: Int
    /// Records the cloud refused with an MQTT 5 reason code.
    public var rejected: Int
    /// Messages received from cloud subscriptions.
    public var received: Int
    /// MQTT bytes written to the cloud broker.
    public var bytesSent: Int
    /// MQTT bytes read from the cloud broker.
    public var bytesReceived: Int
    /// Records acknowledged per second over roughly the last second.
    public var drainRatePerSecond: Double
    /// The endpoint in use, or being tried (`host:port`).
    public var endpoint: String? = nil
    /// Connections accepted by another endpoint than the previous one, failbacks aside.
    public var failovers: Int = 0
    /// Refusals by reason code and the throttle's state.
    public var refusals = UplinkRefusalStatus()
    /// QoS 2 flows the cloud completed (PUBCOMP).
    public var exactlyOnceCompleted = 0
    /// Records dead-lettered by the operator's limits, and waits for the publish rate.
    public var limits = UplinkLimitStatus()
}

extension Gateway {
    /// The queue's counters, or nil when the uplink (and so the queue) is disabled.
    public func queueSnapshot() -> QueueSnapshot? {
        guard let forwardQueue else { return nil }
        let statistics = forwardQueue.statistics
        let now = SystemWallClock().millisecondsSinceEpoch()
        var dropped: [String: Int] = [:]
        for reason in ForwardDropReason.allCases {
            dropped[reason.rawValue] = statistics.drops(reason)
        }
        var snapshot = QueueSnapshot(
            depth: statistics.depth,
            bytes: statistics.bytes,
            oldestAgeSeconds: statistics.oldestEnqueuedAt.map { Double(max(0, now - $0)) / 1000 } ?? 0,
            appended: statistics.appended,
            removed: statistics.removed,
            commits: statistics.commits,
            dropped: dropped,
            corruptRecords: statistics.corruptRecords,
            writeErrors: statistics.writeErrors
        )
        snapshot.deadLetters = statistics.deadLetters
        snapshot.deadLetterBytes = statistics.deadLetterBytes
        snapshot.deadLettered = Dictionary(
            uniqueKeysWithValues: statistics.deadLettered.map { (Self.reasonLabel($0.key), $0.value) })
        snapshot.deadLettersDropped = statistics.deadLettersDropped
        return snapshot
    }

    /// A reason code as a metric label: `0x97`.
    public static func reasonLabel(_ code: UInt8) -> String {
        "0x" + (code < 0x10 ? "0" : "") + String(code, radix: 16)
    }

    /// The uplink's state and counters, or nil when the uplink is disabled.
    public func uplinkSnapshot() -> UplinkSnapshot? {
        guard let status = uplinkStatus?() else { return nil }
        var snapshot = UplinkSnapshot(
            state: status.state.rawValue,
            reconnects: status.reconnects,
            lastError: status.lastError,
            inFlight: status.inFlight,
            published: status.published,
            resent: status.resent,
            acknowledged: status.acknowledged,
            rejected: status.rejected,
            received: status.received,
            bytesSent: status.bytesSent,
            bytesReceived: status.bytesReceived,
            drainRatePerSecond: status.drainRatePerSecond,
            endpoint: status.endpoint,
            failovers: status.failovers
        )
        snapshot.refusals = status.refusals
        snapshot.exactlyOnceCompleted = status.exactlyOnceCompleted
        snapshot.limits = status.limits
        return snapshot
    }

    /// Returns once the database writer has committed everything submitted so far: a no-op
    /// round trip that proves the writer thread still answers.
    public func probeStore() async {
        await database.flush()
    }
}
