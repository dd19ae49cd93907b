public import AdapterKit
public import Logging
import MQTTCodec
public import NIOCore
public import ServiceLifecycle
import Synchronization
public import WharfCore

/// The bridge to the cloud MQTT broker: drains the store-and-forward queue upstream and publishes
/// what the cloud sends on the remote subscriptions into the local broker.
///
/// Delivery is at least once. Records go out in queue order as QoS 1 with a window of unacknowledged
/// publishes; a record is deleted from the queue only after its PUBACK. After a reconnect everything
/// unacknowledged is resent in its original order before anything newer (with DUP when the server
/// resumed the session). A PUBACK carrying an MQTT 5 error code (0x80 and above) never deletes the
/// record: a transient refusal (quota, busy, see `RefusalClassifier`) keeps it in the window to go
/// out again before anything newer, halves the window and pauses sending (`RefusalThrottle`); a
/// permanent one moves it to the queue's dead-letter table, counted in `status.rejected`. A record that
/// can never be sent to the endpoint in use (its `UplinkLimits`, the server's Maximum Packet Size, an
/// invalid topic) moves there without being sent, counted in `status.limits`; the endpoint's
/// `max_publish_rate` spaces the sending (`PublishRateLimiter`).
///
/// The link announces itself on `statusTopic`: a retained "online" after every CONNACK, with a retained
/// "offline" will for an unclean loss. A graceful stop (service-group shutdown or `stop()`) waits
/// briefly for outstanding PUBACKs, publishes the retained "offline" itself and then sends a normal
/// DISCONNECT, so the server discards the will; if the window has no room for it, an MQTT 5 link
/// disconnects with reason 0x04 instead, which makes the server publish the will.
public final class UplinkService: Service, Sendable {
    let configuration: UplinkConfiguration
    let queue: any UplinkQueue
    let bus: any MessageBus
    let logger: Logger
    let clock: any WharfClock
    let eventLoopGroup: any EventLoopGroup
    /// Wall-clock milliseconds since 1970, for message expiry.
    let wallClock: @Sendable () -> Int64
    /// The seed of the reconnect jitter.
    let seed: UInt64
    /// Turns an endpoint's host into the addresses to try.
    let resolver: HostResolver

    let shared: Mutex<SharedState>
    /// Bytes read off the socket (after TLS), counted by a handler on the event loop.
    let bytesReceived = ByteCounter()
    /// Signalled when PUBACKs free room in the window.
    let windowSignal = AsyncSignal()
    /// Signalled when the read-ahead runs low.
    let fetchSignal = AsyncSignal()
    /// Signalled when finished records wait to be acknowledged to the queue.
    let acknowledgeSignal = AsyncSignal()
    /// Closed when the service is asked to stop.
    let stopSignal = AsyncSignal()
    /// Remote subscription filters, to find the remap of an arriving message (value: index in the configuration).
    let subscriptionIndex: TopicTrie<Int, Int>

    /// Creates the service; nothing happens until `run()`.
    public convenience init(
        configuration: UplinkConfiguration,
        queue: any UplinkQueue,
        bus: any MessageBus,
        logger: Logger,
        clock: any WharfClock = SystemClock(),
        eventLoopGroup: any EventLoopGroup
    ) {
        self.init(
            configuration: configuration, queue: queue, bus: bus, logger: logger, clock: clock,
            eventLoopGroup: eventLoopGroup, wallClock: UplinkService.systemWallClock,
            seed: UInt64.random(in: 0...UInt64.max)
        )
    }

    /// Creates the service with an injected wall clock and jitter seed.
    init(
        configuration: UplinkConfiguration,
        queue: any UplinkQueue,
        bus: any MessageBus,
        logger: Logger,
        clock: any WharfClock,
        eventLoopGroup: any EventLoopGroup,
        wallClock: @escaping @Sendable () -> Int64,
        seed: UInt64,
        resolver: HostResolver = .system
    ) {
        self.configuration = configuration
        self.queue = queue
        self.bus = bus
        var logger = logger
        logger[metadataKey: "uplink.host"] = "\(configuration.endpoints.map(\.description).joined(separator: ","))"
        self.logger = logger
        self.clock = clock
        self.eventLoopGroup = eventLoopGroup
        self.wallClock = wallClock
        self.seed = seed
        self.resolver = resolver
        self.shared = Mutex(
            SharedState(
                window: InflightWindow(maxInflight: configuration.maxInflight, exactlyOnce: configuration.exactlyOnce),
                throttle: RefusalThrottle(
                    maxWindow: configuration.maxInflight, policy: configuration.throttleBackoff, seed: seed)))
        var index = TopicTrie<Int, Int>()
        for (position, subscription) in configuration.subscriptions.enumerated() {
            index.insert(filter: subscription.remoteFilter, key: position, value: position)
        }
        self.subscriptionIndex = index
    }

    /// A snapshot of the link and its counters.
    public var status: UplinkStatus {
        let now = clock.now()
        var status = shared.withLock { shared in
            var status = shared.status
            status.inFlight = shared.window.inFlight
            status.refusals.window = shared.throttle.window
            status.refusals.maxWindow = shared.throttle.maxWindow
            status.refusals.pauses = shared.throttle.pauses
            // A pause still running counts only up to now.
            let remaining = shared.throttle.pausedUntil.map { $0 > now ? $0 - now : 0 } ?? 0
            status.refusals.throttledSeconds = Double(shared.throttle.throttledNanoseconds - remaining) / 1e9
            status.drainRatePerSecond = shared.rate.rate(at: now)
            return status
        }
        status.bytesReceived = bytesReceived.value
        return status
    }

    /// Connects, drains and reconnects until cancelled or gracefully stopped.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.acknowledgeLoop() }
                await self.connectionLoop()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.stop()
        }
        // Acknowledgements taken after the loop stopped still deserve to reach the queue.
        await flushAcknowledgements()
        transition(to: .stopped)
    }

    /// Stops the service gracefully (as a service-group shutdown does): announces "offline" and disconnects.
    public func stop() {
        stopSignal.close()
    }

    private static let systemWallClock: @Sendable () -> Int64 = {
        SystemWallClock().millisecondsSinceEpoch()
    }
}

extension UplinkService {
    /// The state shared by the connection's tasks, always accessed under `shared`'s lock.
    struct SharedState: Sendable {
        var window: InflightWindow
        /// The window and pause after transient refusals.
        var throttle: RefusalThrottle
        /// Records the cloud refused for good, not yet moved to the dead-letter table.
        var pendingDeadLetters: [UplinkDeadLetter] = []
        /// The end of the pause a pump wake-up is scheduled for, so that one timer serves it.
        var wakeScheduled: UInt64?
        /// The endpoint's `max_publish_rate` on the current connection; nil without one.
        var rateLimiter: PublishRateLimiter?
        /// How many records the limits dead-lettered on the current connection (the first ones are logged).
        var localRefusalsLogged = 0
        /// Whether the Maximum QoS 0 problem was logged on the current connection.
        var maximumQoSReported = false
        /// Records finished (PUBACK, dropped, QoS 0 sent) and not yet acknowledged to the queue.
        var pendingAcknowledgements: [Int64] = []
        var status = UplinkStatus()
        var rate = RateMeter()
        /// The keep-alive schedule of the current connection.
        var keepAlive: KeepAliveSchedule?
        /// The client identifier the server assigned, reused on later connections.
        var assignedClientIdentifier: String?
        /// QoS 2 messages received from the cloud and awaiting PUBREL (packet identifiers).
        var receivedExactlyOnce: Set<UInt16> = []
        /// How many PUBACK errors were logged on the current connection (the rest are only counted).
        var rejectionsLogged = 0
        /// Records fetched from the queue and not yet in the window.
        var readAhead = ReadAhead()
        /// Set by a graceful stop: no new records go out, only what is outstanding is awaited.
        var stopping = false
        /// The channel of the accepted connection; a late pump on an older channel must not take records.
        var activeChannel: ObjectIdentifier?
        /// The index of the endpoint in use or being tried, in the configuration's list.
        var endpointIndex = 0
        /// Endpoints that refused a QoS 1 will (CONNACK 0x9B QoS not supported): their will goes at QoS 0.
        var willAtMostOnce: Set<String> = []
    }
}

/// A byte counter the event loop increments and any thread reads.
final class ByteCounter: Sendable {
    private let count = Atomic<Int>(0)

    func add(_ bytes: Int) {
        count.add(bytes, ordering: .relaxed)
    }

    var value: Int { count.load(ordering: .relaxed) }
}
