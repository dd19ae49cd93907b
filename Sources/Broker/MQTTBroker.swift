import AdapterKit
public import Logging
import MQTTCodec
import NIOCore
import Synchronization
public import WharfConfig
public import WharfCore

/// Wharf's embedded MQTT broker: the session registry and router that listeners, adapters and
/// the uplink share. Listeners are started by ``BrokerService``.
public final class MQTTBroker: Sendable {
    /// The broker's configuration as loaded.
    public let config: BrokerConfig
    let logger: Logger
    let router: Router
    let statistics = BrokerStatistics()
    let clock: any WharfClock
    let startedAt: UInt64
    /// The version string announced in `$SYS/broker/version`.
    public let version: String
    /// Where persistent sessions and retained messages are kept, if anywhere.
    let store: (any SessionStore)?
    let wallClock: any WallClock
    /// Credentials and ACL in force; see ``updateAccessControl(_:)``.
    let accessControl: AccessControlState
    /// Backpressure bounds, password-check slots and their counters.
    let flowControl: BrokerFlowControl
    /// Sessions by client identifier. Lock order: this registry, then a session's own lock.
    let sessions = Mutex<[String: Session]>([:])
    /// What every session refers to: counters, bounds, store, clock.
    let sessionShared: Session.Shared
    /// The CONNECT and keep-alive deadlines of client connections, one timer per event loop.
    let connectionDeadlines = ConnectionDeadlineRegistry()
    /// Extra `$SYS` values from other parts (uplink, queue), read at every publication.
    let systemTopicProviders = Mutex<[@Sendable () -> [(String, String)]]>([])

    /// Creates a broker; it routes in-process publishes at once and accepts MQTT clients once
    /// a ``BrokerService`` binds its listeners.
    public init(
        config: BrokerConfig,
        version: String,
        logger: Logger,
        clock: any WharfClock = SystemClock(),
        store: (any SessionStore)? = nil,
        wallClock: any WallClock = SystemWallClock()
    ) {
        self.config = config
        self.flowControl = BrokerFlowControl(config: config.flowControl)
        self.version = version
        self.logger = logger
        self.clock = clock
        self.store = store
        self.wallClock = wallClock
        self.accessControl = AccessControlState(Self.initialAccessControl(config))
        self.router = Router(
            statistics: statistics, clock: clock, store: store, accessControl: accessControl,
            retained: RetainedStore(maxMessages: config.maxRetainedMessages, maxBytes: config.maxRetainedBytes))
        self.startedAt = clock.now()
        self.sessionShared = Session.Shared(
            statistics: statistics, maxStagedBytes: config.flowControl.maxOutboundBytes, store: store,
            wallClock: wallClock)
    }

    /// The largest packet the broker accepts, in bytes (the protocol maximum when unlimited).
    var maximumPacketSize: Int { config.maxPacketSize == 0 ? 268_435_460 : config.maxPacketSize }

    // MARK: Sessions

    func publishWill(_ will: Message) {
        var message = will
        message.receivedAt = clock.now()
        router.publish(message)
    }

    /// Publishes delayed wills that are due and ends sessions whose expiry has passed.
    /// Called once a second by the broker service; public for tests with a manual clock.
    public func sweep() {
        let now = clock.now()
        let candidates = sessions.withLock { Array($0.values) }
        var expired: [Session] = []
        for session in candidates {
            let (will, isExpired): (Message?, Bool) = session.core.withLock { core in
                guard core.attachment == nil, let since = core.disconnectedAt else { return (nil, false) }
                var will: Message?
                if let delayed = core.delayedWill, delayed.due <= now {
                    will = delayed.will
                    core.delayedWill = nil
                }
                let lifetime = Int64(core.expiryInterval) * 1_000_000_000
                let isExpired = core.expiryInterval != UInt32.max && Int64(now) >= since + lifetime
                return (will, isExpired)
            }
            if let will { publishWill(will) }
            if isExpired { expired.append(session) }
        }
        guard !expired.isEmpty else { return }
        let removed: [Session] = sessions.withLock { sessions in
            expired.filter { session in
                guard sessions[session.clientIdentifier] === session,
                    session.core.withLock({ $0.attachment == nil })
                else { return false }
                sessions.removeValue(forKey: session.clientIdentifier)
                return true
            }
        }
        for session in removed {
            statistics.sessionsExpired.add(1, ordering: .relaxed)
            end(session)
        }
    }

    /// Sessions known to the broker, connected or not.
    var sessionCount: Int { sessions.withLock { $0.count } }

    // MARK: Counters for status pages

    /// Clients connected now.
    public var connectedClients: Int { statistics.clientsConnected.load(ordering: .relaxed) }
}

extension MQTTBroker {
    /// Puts persistent sessions and retained messages loaded from the store back, before the
    /// listeners open. Disconnected time is counted from the stored wall-clock time, so a
    /// session whose expiry passed while wharfd was down ends at the first sweep.
    public func restore(sessions restored: [RestoredSession], retained: [Message]) {
        let now = clock.now()
        let wallNow = wallClock.millisecondsSinceEpoch()
        for message in retained {
            var message = message
            message.receivedAt = now
            if router.retained.restore(message) != .applied {
                logger.warning(
                    "retained message not restored: max_retained_messages or max_retained_bytes reached",
                    metadata: ["mqtt.topic": "\(message.topic)"])
            }
        }
        for record in restored {
            let session = makeSession(record.clientIdentifier)
            var subscriptions: [SessionSubscription] = []
            for stored in record.subscriptions {
                var subscription = SessionSubscription(
                    filter: stored.filter,
                    shareGroup: nil,
                    options: stored.options,
                    identifier: stored.identifier
                )
                if case .success(let shared)? = SharedSubscription.parse(stored.filter) {
                    subscription.shareGroup = shared.group
                    subscription.filter = shared.filter
                }
                subscriptions.append(subscription)
            }
            session.core.withLock { core in
                core.expiryInterval = record.expiryInterval
                core.persisted = true
                core.owner = record.owner
                if case .user(let username) = record.owner {
                    core.principal = .client(
                        username: username, clientIdentifier: record.clientIdentifier, listener: "")
                }
                core.state.restoreInbound(record.inboundQoS2)
                // Downtime counts against the session expiry: the disconnect time moves back by
                // the wall-clock time since it, even to before this process started.
                let downMilliseconds = max(0, wallNow - (record.disconnectedAt ?? wallNow))
                core.disconnectedAt = Int64(now) - downMilliseconds * 1_000_000
                for subscription in subscriptions {
                    core.subscriptions[subscription.fullFilter] = subscription
                }
                for stored in record.messages {
                    var message = stored.message
                    // Message expiry counts from the original receive time: shorten the interval
                    // by the age, and drop what expired while wharfd was down. A QoS 2 message
                    // already sent is past expiry's reach (MQTT 5 §4.3): it completes as it is.
                    let sent = stored.sentPacketIdentifier != nil || stored.releasedPacketIdentifier != nil
                    if !sent, let interval = message.properties.messageExpiryInterval {
                        let ageSeconds = max(0, wallNow - stored.receivedAtWall) / 1000
                        guard ageSeconds < Int64(interval) else {
                            store?.deleteMessage(clientIdentifier: record.clientIdentifier, id: stored.id)
                            statistics.recordDrop(.expired)
                            continue
                        }
                        message.properties.messageExpiryInterval = interval - UInt32(ageSeconds)
                    }
                    message.receivedAt = now
                    let outbound = OutboundMessage(
                        message: message,
                        qos: stored.qos,
                        retain: stored.retain,
                        subscriptionIdentifiers: stored.subscriptionIdentifiers,
                        enqueuedAt: now,
                        storeID: stored.id
                    )
                    core.state.restore(
                        outbound,
                        releasedPacketIdentifier: stored.releasedPacketIdentifier,
                        sentPacketIdentifier: stored.sentPacketIdentifier
                    )
                }
            }
            for subscription in subscriptions {
                router.subscribe(session, subscription)
            }
            self.sessions.withLock { $0[record.clientIdentifier] = session }
        }
    }

    /// Closes every client connection; MQTT 5 clients are told the server is shutting down.
    func disconnectAll() {
        let attachments = sessions.withLock { sessions in
            sessions.values.compactMap { session in session.core.withLock { $0.attachment } }
        }
        for attachment in attachments {
            attachment.disconnect(.serverShuttingDown)
        }
    }
}
