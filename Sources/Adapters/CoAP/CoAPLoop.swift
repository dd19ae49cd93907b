import AdapterKit
import CCoAP
import Logging
import Metrics
import WharfCore

#if canImport(Glibc)
    import Glibc
#endif

/// The libcoap context and everything that touches it. Created, used and destroyed on one
/// dedicated thread; other threads reach it only through its ``CoAPInbox``.
final class CoAPLoop {
    /// One confirmable exchange: the session it came on and its message ID.
    struct ExchangeKey: Hashable {
        var session: UInt
        var mid: Int32
    }

    /// One observation: the session and the token of its registration.
    struct ObserverKey: Hashable, Sendable {
        var session: UInt
        var token: [UInt8]
    }

    /// A confirmable POST/PUT waiting for its publish before it is acknowledged.
    struct PendingRequest {
        var session: OpaquePointer
        var exchange: ExchangeKey
        var token: [UInt8]
        var method: RequestMethod
    }

    let settings: CoAPSettings
    let router: RequestRouter
    let adapterName: String
    let bus: any MessageBus
    let logger: Logger
    let clock: any WharfClock
    let inbox: CoAPInbox
    let metrics: CoAPMetrics

    var context: OpaquePointer?
    var running = true
    var stopping = false
    /// When a stop gives up waiting for pending publishes (nanoseconds of `clock`).
    var stopDeadline: UInt64 = .max
    var nextRequestID: UInt64 = 1
    var pending: [UInt64: PendingRequest] = [:]
    var inFlight: Set<ExchangeKey> = []
    var observers: ObserverRegistry<ObserverKey, ObservedTopic>
    var topicSubscriptions: [ObservedTopic: BusSubscription] = [:]
    var observeSequence: UInt32 = 2
    var notificationCounts: [ObserverKey: Int] = [:]
    /// The last notification per observed topic that was too large for one datagram, for Block2 GETs.
    var largeNotifications: [ObservedTopic: Message] = [:]
    var confirmableNotifications: [ExchangeKey: ObserverKey] = [:]
    var dtlsSessions: Set<UInt> = []
    /// DTLS handshakes of known identities that have not completed: a wrong key shows only as a
    /// handshake that never finishes (DTLS drops records it cannot decrypt).
    var handshakes: [UInt: (peer: String, identity: String, started: UInt64)] = [:]
    var pskKeys: [String: UnsafeMutablePointer<coap_bin_const_t>] = [:]
    /// The verified client certificate subject of each DTLS session that presented one, from its
    /// handshake until the session ends.
    var certificateSubjects: [UInt: String] = [:]
    /// C strings libcoap holds on to until the context is freed.
    var ownedStrings: [UnsafeMutablePointer<CChar>] = []
    var devices: DeviceClients

    init(settings: CoAPSettings, context: AdapterContext, inbox: CoAPInbox) {
        self.settings = settings
        self.router = RequestRouter(settings: settings, adapter: context.name)
        self.adapterName = context.name
        self.bus = context.bus
        self.logger = context.logger
        self.clock = context.clock
        self.inbox = inbox
        self.metrics = CoAPMetrics(adapter: context.name)
        self.observers = ObserverRegistry(limit: settings.observe.maxObservers)
        self.devices = DeviceClients(settings: settings.devices, now: context.clock.now())
    }

    /// Why the server could not start.
    struct StartError: Error, CustomStringConvertible {
        var description: String
    }

    /// Creates the context, endpoints and handlers.
    func start() -> Result<Void, StartError> {
        if let error = CoAPLibrary.load() { return .failure(StartError(description: error)) }
        coap_startup()
        routeLibcoapLogs(to: logger, adapter: adapterName)
        guard let context = coap_new_context(nil) else {
            return .failure(StartError(description: "libcoap could not create a context"))
        }
        self.context = context
        coap_set_app_data(context, Unmanaged.passUnretained(self).toOpaque())
        coap_context_set_block_mode(context, UInt8(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY))
        coap_register_event_handler(context, wharfCoAPEvent)
        coap_register_nack_handler(context, wharfCoAPNack)
        coap_register_response_handler(context, wharfCoAPResponse)

        var address = coap_address_t()
        guard wharf_coap_address(settings.bind, UInt16(settings.port), &address) == 0 else {
            return .failure(StartError(description: "bind '\(settings.bind)' is not an IP address"))
        }
        guard coap_new_endpoint(context, &address, COAP_PROTO_UDP) != nil else {
            return .failure(StartError(description: "cannot listen on \(settings.bind):\(settings.port) (UDP)"))
        }
        if settings.dtls.enabled {
            if case .failure(let error) = startDTLS(context) { return .failure(error) }
        }
        guard let resource = coap_resource_unknown_init2(wharfCoAPRequest, 0) else {
            return .failure(StartError(description: "libcoap could not create the request handler"))
        }
        for method in [
            COAP_REQUEST_GET, COAP_REQUEST_POST, COAP_REQUEST_PUT, COAP_REQUEST_DELETE, COAP_REQUEST_FETCH,
            COAP_REQUEST_PATCH, COAP_REQUEST_IPATCH,
        ] {
            coap_register_handler(resource, method, wharfCoAPRequest)
        }
        coap_add_resource(context, resource)
        return .success(())
    }

    /// Runs until `.stop` arrives and the pending publishes are answered.
    func run() {
        guard let context else { return }
        let coapFD = coap_context_get_coap_fd(context)
        let sharedWait = coapFD >= 0 && wharf_coap_epoll_add(coapFD, inbox.wakeFD) == 0
        if !sharedWait {
            logger.warning("libcoap has no epoll support here; polling every 10 ms")
        }
        while running {
            drainInbox()
            if stopping && clock.now() >= stopDeadline {
                logger.warning("stopping with \(pending.count) requests still waiting for their publish")
                running = false
            }
            guard running else { break }
            devicesTick()
            var now: coap_tick_t = 0
            coap_ticks(&now)
            // Arms libcoap's timer for its next retransmission or timeout (0 = none).
            var timeout = Int(coap_io_prepare_epoll(context, now))
            if timeout == 0 || timeout > 1000 { timeout = 1000 }
            if !handshakes.isEmpty {
                checkHandshakes()
                timeout = min(timeout, 250)
            }
            if let delay = devices.nextDelay(now: clock.now()) {
                timeout = min(timeout, Int(delay / 1_000_000) + 1)
            }
            let sleeps = inbox.prepareToSleep()
            if !sleeps { timeout = 0 }
            if sharedWait {
                // One epoll_wait for the sockets, libcoap's timer and the inbox's eventfd.
                _ = wharf_coap_epoll_wait(context, coapFD, Int32(timeout))
            } else {
                if timeout > 0 { _ = wharf_coap_wait(inbox.wakeFD, -1, Int32(min(timeout, 10))) }
                _ = coap_io_process(context, UInt32.max)
            }
            if sleeps { inbox.awake() }
        }
        shutdown(context)
    }

    /// Handles waiting work; handling it may post more, so it repeats a bounded number of rounds.
    func drainInbox() {
        for _ in 0..<8 {
            let items = inbox.take()
            if items.isEmpty { return }
            for item in items {
                switch item {
                case .published(let id, let error): completePublish(id: id, error: error)
                case .message(let message, let observed): notifyObservers(message, observed: observed)
                case .command(let device, let message): sendCommand(device: device, message)
                case .stop: beginStop()
                }
            }
        }
    }

    private func beginStop() {
        stopping = true
        stopDeadline = clock.now() &+ 5_000_000_000
        for subscription in topicSubscriptions.values { subscription.cancel() }
        topicSubscriptions.removeAll()
        devices.cancelSubscriptions()
        if pending.isEmpty { running = false }
    }

    /// Frees what a failed `start()` created.
    func abandon() {
        if let context {
            shutdown(context)
        } else {
            inbox.close()
        }
    }

    private func shutdown(_ context: OpaquePointer) {
        for request in pending.values { coap_session_release(request.session) }
        pending.removeAll()
        for key in observers.removeAll(where: { _ in true }) {
            if let session = OpaquePointer(bitPattern: key.key.session) { coap_session_release(session) }
        }
        metrics.observers.record(0)
        devices.releaseSessions()
        coap_free_context(context)
        self.context = nil
        for key in pskKeys.values {
            UnsafeMutableRawPointer(mutating: key.pointee.s)?.deallocate()
            key.deallocate()
        }
        pskKeys.removeAll()
        for string in ownedStrings { free(string) }
        ownedStrings.removeAll()
        inbox.close()
    }

    /// Reports handshakes that did not complete within 1.5 s (most often a wrong key).
    func checkHandshakes() {
        let now = clock.now()
        for (session, handshake) in handshakes where now &- handshake.started > 1_500_000_000 {
            handshakes[session] = nil
            metrics.error(.dtls)
            var logger = self.logger
            logger[metadataKey: "coap.peer"] = "\(handshake.peer)"
            logger.info("DTLS handshake of identity '\(handshake.identity)' did not complete (wrong key?)")
        }
    }

    /// Logger metadata for one peer.
    func log(_ session: OpaquePointer) -> Logger {
        var logger = self.logger
        logger[metadataKey: "coap.peer"] = "\(PDU.peer(session))"
        return logger
    }
}
