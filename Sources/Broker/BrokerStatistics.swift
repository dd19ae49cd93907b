import Synchronization

/// Counters behind `$SYS/broker/...` and the broker's metrics. Connections add their counts
/// once per read batch, so the atomics stay off the per-byte path.
final class BrokerStatistics: Sendable {
    /// MQTT packets received / sent, of any type.
    let packetsReceived = Atomic<Int>(0)
    let packetsSent = Atomic<Int>(0)
    /// PUBLISH packets received from clients / sent to clients.
    let publishReceived = Atomic<Int>(0)
    let publishSent = Atomic<Int>(0)
    /// Payload bytes of PUBLISH packets received / sent (Mosquitto's `publish/bytes/...`).
    let publishBytesReceived = Atomic<Int>(0)
    let publishBytesSent = Atomic<Int>(0)
    /// Bytes read from / written to client sockets.
    let bytesReceived = Atomic<Int>(0)
    let bytesSent = Atomic<Int>(0)
    /// Connected MQTT clients now, and the most seen at once.
    let clientsConnected = Atomic<Int>(0)
    let clientsMaximum = Atomic<Int>(0)
    /// Sessions removed because their expiry interval passed.
    let sessionsExpired = Atomic<Int>(0)
    /// Open TCP connections (connected or not yet), for `max_connections`.
    let connectionsOpen = Atomic<Int>(0)
    /// Connections refused or closed for breaking the protocol.
    let protocolErrors = Atomic<Int>(0)
    /// Publishes, subscriptions and in-process subscriptions refused by the ACL, a principal's
    /// confinement or the `$` rules (deliveries withheld are not counted).
    let authorizationRefusals = Atomic<Int>(0)
    private let droppedQueueFull = Atomic<Int>(0)
    private let droppedExpired = Atomic<Int>(0)
    private let droppedTooLarge = Atomic<Int>(0)
    private let droppedOffline = Atomic<Int>(0)
    private let droppedNotAuthorized = Atomic<Int>(0)
    /// Refusals per limit; rare, so one lock is enough.
    private let limitHits = Mutex<[BrokerLimit: Int]>([:])
    private let droppedSlowConsumer = Atomic<Int>(0)

    init() {}

    func recordLimitHit(_ limit: BrokerLimit) {
        limitHits.withLock { $0[limit, default: 0] += 1 }
    }

    /// Refusals caused by `limit` since start.
    func limitHitCount(_ limit: BrokerLimit) -> Int {
        limitHits.withLock { $0[limit] ?? 0 }
    }

    func recordDrop(_ reason: DropReason) {
        switch reason {
        case .queueFull: droppedQueueFull.add(1, ordering: .relaxed)
        case .expired: droppedExpired.add(1, ordering: .relaxed)
        case .tooLargeForClient: droppedTooLarge.add(1, ordering: .relaxed)
        case .offlineQoS0: droppedOffline.add(1, ordering: .relaxed)
        case .notAuthorized: droppedNotAuthorized.add(1, ordering: .relaxed)
        case .slowConsumer: droppedSlowConsumer.add(1, ordering: .relaxed)
        }
    }

    /// Messages dropped for `reason` since start.
    func dropped(_ reason: DropReason) -> Int {
        switch reason {
        case .queueFull: droppedQueueFull.load(ordering: .relaxed)
        case .expired: droppedExpired.load(ordering: .relaxed)
        case .tooLargeForClient: droppedTooLarge.load(ordering: .relaxed)
        case .offlineQoS0: droppedOffline.load(ordering: .relaxed)
        case .notAuthorized: droppedNotAuthorized.load(ordering: .relaxed)
        case .slowConsumer: droppedSlowConsumer.load(ordering: .relaxed)
        }
    }

    /// Messages dropped for any reason since start.
    var droppedTotal: Int { DropReason.allCases.reduce(0) { $0 + dropped($1) } }

    func clientConnected() {
        let now = clientsConnected.add(1, ordering: .relaxed).newValue
        var seen = clientsMaximum.load(ordering: .relaxed)
        while now > seen {
            let (exchanged, original) = clientsMaximum.compareExchange(
                expected: seen,
                desired: now,
                ordering: .relaxed
            )
            if exchanged { break }
            seen = original
        }
    }

    func clientDisconnected() {
        clientsConnected.subtract(1, ordering: .relaxed)
    }
}
