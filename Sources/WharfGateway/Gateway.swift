public import Broker
import Logging
import MQTTCodec
public import NIOCore
public import ServiceLifecycle
public import Store
public import Uplink
public import WharfConfig
import WharfCore

/// Everything `wharfd` runs, built from one configuration: the state database, the broker with
/// its persisted sessions and retained messages, the forward rules and the uplink.
public struct Gateway: Sendable {
    /// The embedded broker (also the in-process message bus for adapters).
    public let broker: MQTTBroker
    /// The services to run, broker listeners first.
    public let services: [any Service]
    /// The SQLite database under the data directory.
    public let database: StoreDatabase
    /// The store-and-forward queue, when the uplink is enabled.
    public let forwardQueue: ForwardQueue?
    /// Reads the uplink's status, when the uplink is enabled.
    let uplinkStatus: (@Sendable () -> UplinkStatus)?

    /// Opens the database, restores the broker's state and assembles the services.
    public static func make(
        configuration: WharfConfiguration,
        gatewayID: String,
        version: String,
        group: any EventLoopGroup,
        control: UplinkControl? = nil,
        onBound: @escaping @Sendable ([SocketAddress]) -> Void
    ) async throws(GatewayError) -> Gateway {
        let logger = Logger(label: "wharf.store")
        let path = configuration.storage.dataDirectory + "/wharf.db"
        let database: StoreDatabase
        do {
            database = try await StoreDatabase.open(
                StoreOptions(
                    path: path,
                    synchronous: configuration.storage.queue.synchronous == .normal ? .normal : .full,
                    maxPageCount: TestHooks.storeMaxPageCount,
                    maxPendingBytes: configuration.storage.maxPendingBytes
                ),
                logger: logger
            )
        } catch {
            throw GatewayError("storage: cannot open \(path): \(error)")
        }
        let wallClock = SystemWallClock()
        let state = BrokerStateStore(database: database)
        let loaded: (sessions: [PersistedSession], retained: [PersistedRetained])
        do {
            loaded = try await state.loadAll()
        } catch {
            await database.close()
            throw GatewayError("storage: cannot load broker state from \(path): \(error)")
        }
        let broker = MQTTBroker(
            config: configuration.broker,
            version: version,
            logger: Logger(label: "wharf.broker"),
            store: StoreSessionStore(state: state, wallClock: wallClock),
            wallClock: wallClock
        )
        let restored = StoreSessionStore.restored(loaded)
        broker.restore(sessions: restored.sessions, retained: restored.retained)
        if !restored.sessions.isEmpty || !restored.retained.isEmpty {
            logger.notice(
                "restored broker state",
                metadata: ["sessions": "\(restored.sessions.count)", "retained": "\(restored.retained.count)"]
            )
        }

        var services: [any Service] = [
            BrokerService(
                broker: broker,
                listeners: configuration.broker.listeners,
                group: group,
                logger: Logger(label: "wharf.broker"),
                onBound: onBound
            )
        ]
        var forwardQueue: ForwardQueue?
        var uplinkStatus: (@Sendable () -> UplinkStatus)?
        let uplink = configuration.uplink
        if uplink.enabled {
            let queueConfig = configuration.storage.queue
            let limits = ForwardQueueLimits(maxBytes: queueConfig.maxBytes, maxAge: queueConfig.maxAge)
            let deadLetter = configuration.storage.deadLetter
            let queue = ForwardQueue(
                database: database, limits: limits,
                deadLetterLimits: DeadLetterLimits(maxRows: deadLetter.maxRows, maxBytes: deadLetter.maxBytes),
                now: { wallClock.millisecondsSinceEpoch() })
            forwardQueue = queue
            services.append(QueueExpiryService(queue: queue, interval: ForwardQueue.expiryPurgeInterval(for: limits)))
            let ruleLogger = Logger(label: "wharf.uplink")
            for rule in uplink.forward {
                let sink = ForwardRuleSink(
                    rule: rule,
                    gatewayID: gatewayID,
                    queue: queue,
                    wallClock: wallClock,
                    logger: ruleLogger
                )
                broker.addForwardRoute(DurableRoute(name: rule.name, filter: rule.filter, sink: sink))
            }
            var linkConfiguration = uplinkConfiguration(uplink, gatewayID: gatewayID)
            linkConfiguration.control = control
            let uplinkService = UplinkService(
                configuration: linkConfiguration,
                queue: StoreUplinkQueue(queue: queue),
                bus: broker,
                logger: Logger(label: "wharf.uplink"),
                eventLoopGroup: group
            )
            services.append(uplinkService)
            uplinkStatus = { uplinkService.status }
            broker.addSystemTopics {
                UplinkStatistics.systemTopics(uplink: uplinkService.status, queue: queue, wallClock: wallClock)
            }
        } else if !uplink.forward.isEmpty {
            Logger(label: "wharf.uplink").warning("uplink.forward rules are ignored: uplink.enabled is false")
        }
        return Gateway(
            broker: broker,
            services: services,
            database: database,
            forwardQueue: forwardQueue,
            uplinkStatus: uplinkStatus
        )
    }

    /// Waits for pending writes and closes the database.
    public func close() async {
        await database.flush()
        await database.close()
    }

    /// Translates the `uplink:` section into the uplink client's settings.
    public static func uplinkConfiguration(_ uplink: UplinkConfig, gatewayID: String) -> UplinkConfiguration {
        func resolve(_ text: String) -> String { text.replacing("{gateway}", with: gatewayID) }
        let tls = uplink.tls
        var configuration = UplinkConfiguration(
            host: uplink.host,
            port: uplink.effectivePort,
            tls: tls.enabled
                ? UplinkTLS(
                    caFile: tls.caFile.isEmpty ? nil : tls.caFile,
                    certificateFile: tls.certFile.isEmpty ? nil : tls.certFile,
                    privateKeyFile: tls.keyFile.isEmpty ? nil : tls.keyFile,
                    serverName: tls.serverName.isEmpty ? nil : tls.serverName,
                    verify: tls.verify
                ) : nil,
            clientIdentifier: uplink.clientID.isEmpty ? "wharf-\(gatewayID)" : uplink.clientID,
            username: uplink.username,
            password: uplink.password,
            keepAlive: UInt16(clamping: uplink.keepAlive.components.seconds),
            cleanStart: uplink.cleanStart,
            sessionExpiry: UInt32(clamping: uplink.sessionExpiry.components.seconds),
            version: uplink.mqttVersion == .v311 ? .v311 : .v5,
            backoff: BackoffPolicy(
                base: uplink.backoff.base, cap: uplink.backoff.cap, stableAfter: uplink.backoff.stableAfter),
            maxInflight: uplink.maxInflight,
            statusTopic: resolve(uplink.statusTopic),
            subscriptions: uplink.subscribe.map { subscription in
                RemoteSubscription(
                    remoteFilter: resolve(subscription.filter),
                    qos: subscription.qos == 0 ? .atMostOnce : .atLeastOnce,
                    stripPrefix: resolve(subscription.stripPrefix),
                    localPrefix: subscription.localPrefix
                )
            }
        )
        let listed = !uplink.endpoints.isEmpty
        configuration.endpoints = uplink.effectiveEndpoints.enumerated().map { index, endpoint in
            UplinkEndpoint(
                host: endpoint.host, port: endpoint.port,
                keyPath: listed ? "uplink.endpoints[\(index)]" : "uplink.host",
                limits: UplinkLimits(uplink.effectiveLimits(ofEndpointAt: index))
            )
        }
        configuration.failback = uplink.failback
        configuration.exactlyOnce = uplink.forward.contains { $0.qos == 2 }
        configuration.refusals = RefusalClassifier(extraTransient: Set(uplink.refusals.transientReasonCodes))
        configuration.throttleBackoff = uplink.refusals.throttle
        return configuration
    }
}

/// A failure to assemble the gateway, with a message naming the file or setting.
public struct GatewayError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
