import AdapterKit
import CCoAP
import Logging
import Metrics
import NIOCore
import WharfCore

#if canImport(Glibc)
    import Glibc
#endif

extension CoAPLoop {
    /// Entry point of every request libcoap dispatches to the adapter's resource.
    func handle(
        resource: OpaquePointer,
        session: OpaquePointer,
        request: OpaquePointer,
        query: UnsafePointer<coap_string_t>?,
        response: OpaquePointer
    ) {
        let method: RequestMethod
        switch coap_pdu_get_code(request) {
        case COAP_REQUEST_CODE_GET: method = .get
        case COAP_REQUEST_CODE_POST: method = .post
        case COAP_REQUEST_CODE_PUT: method = .put
        default: method = .other
        }
        if stopping {
            answer(response, method, Rejection(.serviceUnavailable, "shutting down"))
            return
        }
        let path = PDU.options(request, UInt16(COAP_OPTION_URI_PATH))
        let identity = peerIdentity(session)
        switch method {
        case .post, .put:
            ingest(
                session: session, request: request, response: response, method: method, path: path, identity: identity)
        case .get:
            read(
                resource: resource, session: session, request: request, query: query, response: response, path: path,
                identity: identity)
        case .other: answer(response, method, Rejection(.methodNotAllowed, "use POST, PUT or GET"))
        }
    }

    /// Answers in the handler (libcoap sends the response when the handler returns).
    func answer(_ response: OpaquePointer, _ method: RequestMethod, _ rejection: Rejection) {
        coap_pdu_set_code(response, wharf_coap_code(UInt32(rejection.code.number)))
        if rejection.code == .requestEntityTooLarge {
            PDU.addUInt(response, UInt16(COAP_OPTION_SIZE1), UInt32(clamping: settings.maxPayload))
        }
        PDU.addText(response, rejection.reason)
        metrics.request(method, rejection.code)
        if rejection.code.codeClass == 5 || rejection.code == .requestEntityTooLarge || rejection.code == .badRequest {
            metrics.error(rejection.code.codeClass == 5 ? .publish : .malformed)
        }
    }

    private func ingest(
        session: OpaquePointer,
        request: OpaquePointer,
        response: OpaquePointer,
        method: RequestMethod,
        path: [[UInt8]],
        identity: PeerIdentity
    ) {
        let body = PDU.body(request)
        let routed: RoutedRequest
        switch router.ingest(path: path, identity: identity, payloadSize: body.count) {
        case .success(let found): routed = found
        case .failure(let rejection):
            log(session).debug(
                "refused \(method.rawValue): \(rejection.reason)", metadata: ["coap.code": "\(rejection.code)"])
            answer(response, method, rejection)
            return
        }
        let confirmable = coap_pdu_get_type(request) == COAP_MESSAGE_CON
        let exchange = ExchangeKey(session: UInt(bitPattern: session), mid: coap_pdu_get_mid(request))
        if confirmable && inFlight.contains(exchange) {
            // A retransmission while the first copy is still being published: its answer is coming.
            coap_pdu_set_type(response, COAP_MESSAGE_NON)
            return
        }
        var payload = ByteBufferAllocator().buffer(capacity: body.count)
        if let pointer = body.pointer, body.count > 0 {
            payload.writeBytes(UnsafeRawBufferPointer(start: pointer, count: body.count))
        }
        var properties = MessageProperties()
        if let format = PDU.uint(request, UInt16(COAP_OPTION_CONTENT_FORMAT)), format <= UInt32(UInt16.max) {
            properties.contentType = ContentFormat.contentType(for: UInt16(format))
            if format == 0 { properties.payloadFormatIndicator = 1 }
        }
        // The router decides whether the peer may publish to the topic: its principal carries
        // its grant as confinement, and the ACL file applies on top.
        let message = Message(
            topic: routed.topic,
            payload: payload,
            qos: router.qos(confirmable: confirmable),
            retain: settings.ingest.retain,
            properties: properties,
            principal: routed.principal
        )
        guard confirmable else {
            // Non-confirmable: QoS 0, which the router decides at once.
            let outcome = publish(message, id: nil)
            answerPublished(response, method, session: session, error: outcome?.failure)
            return
        }
        let id = nextRequestID
        nextRequestID &+= 1
        if let outcome = publish(message, id: id) {
            // Accepted (or refused) at once: the answer is piggybacked on this response.
            answerPublished(response, method, session: session, error: outcome.failure)
            return
        }
        // A forward rule is putting the message on disk. A NON response with no code is dropped
        // by libcoap: the piggybacked ACK goes out from completePublish once the append is done.
        pending[id] = PendingRequest(
            session: coap_session_reference(session),
            exchange: exchange,
            token: PDU.token(request),
            method: method
        )
        inFlight.insert(exchange)
        coap_pdu_set_type(response, COAP_MESSAGE_NON)
    }

    /// Routes `message` on the libcoap thread, in request order. Returns what the router
    /// decided at once; `nil` when a forward rule is still putting the message on disk, and the
    /// outcome then reaches ``completePublish(id:error:)`` through the inbox (only failures when
    /// `id` is `nil`: nobody waits for those).
    @discardableResult
    func publish(_ message: Message, id: UInt64?) -> Result<PublishReceipt, PublishError>? {
        let inbox = self.inbox
        let progress = bus.publish(message) { result in
            let error = result.failure
            if id != nil || error != nil { inbox.post(.published(id: id, error: error)) }
        }
        switch progress {
        case .finished(let result):
            return result
        case .waiting:
            return nil
        }
    }

    /// Publishes a message no device waits for (readings and command results of device
    /// clients); a refusal is counted and logged.
    func publishUnanswered(_ message: Message) {
        if let error = publish(message, id: nil)?.failure { publishRefused(error, session: nil) }
    }

    /// Sets the code of a response whose request's publish has been decided.
    private func answerPublished(
        _ response: OpaquePointer, _ method: RequestMethod, session: OpaquePointer, error: PublishError?
    ) {
        let code = publishAnswered(method, session: session, error: error)
        coap_pdu_set_code(response, wharf_coap_code(UInt32(code.number)))
        if let error { PDU.addText(response, error.reason) }
    }

    /// Counts the answer to a request whose publish was decided (and logs a refusal); returns
    /// its code: 2.04, or the code of the refusal.
    private func publishAnswered(_ method: RequestMethod, session: OpaquePointer, error: PublishError?) -> CoAPCode {
        let code = error.map(CoAPCode.forPublishError) ?? .changed
        if let error {
            if code == .forbidden {
                // A peer outside its grant or the ACL: its answer says so; not a failure of Wharf's.
                log(session).debug("refused \(method.rawValue): \(error)", metadata: ["coap.code": "\(code)"])
            } else {
                publishRefused(error, session: session)
            }
        }
        metrics.request(method, code)
        return code
    }

    /// Counts and logs a publish the router refused.
    func publishRefused(_ error: PublishError, session: OpaquePointer?) {
        metrics.error(.publish)
        (session.map(log) ?? logger).warning("publish refused: \(error)")
    }

    /// Sends the piggybacked answer of a confirmable request whose publish finished.
    func completePublish(id: UInt64?, error: PublishError?) {
        guard let id, let request = pending.removeValue(forKey: id) else {
            if let error { publishRefused(error, session: nil) }
            return
        }
        inFlight.remove(request.exchange)
        let session = request.session
        let code = publishAnswered(request.method, session: session, error: error)
        if let pdu = coap_pdu_init(
            COAP_MESSAGE_ACK,
            wharf_coap_code(UInt32(code.number)),
            request.exchange.mid,
            coap_session_max_pdu_size(session)
        ) {
            PDU.setToken(pdu, request.token)
            if let error { PDU.addText(pdu, error.reason) }
            _ = coap_send(session, pdu)
        }
        coap_session_release(session)
        if stopping && pending.isEmpty { running = false }
    }

    private func read(
        resource: OpaquePointer,
        session: OpaquePointer,
        request: OpaquePointer,
        query: UnsafePointer<coap_string_t>?,
        response: OpaquePointer,
        path: [[UInt8]],
        identity: PeerIdentity
    ) {
        let routed: RoutedRequest
        switch router.read(path: path, identity: identity) {
        case .success(let found): routed = found
        case .failure(let rejection):
            answer(response, .get, rejection)
            return
        }
        let topic = routed.topic
        let key = ObserverKey(session: UInt(bitPattern: session), token: PDU.token(request))
        let observe = PDU.uint(request, UInt16(COAP_OPTION_OBSERVE))
        // The router decides whether the peer may read the topic (its grant and the ACL).
        let readable: [Message]
        do {
            readable = try bus.retainedMessages(matching: topic, principal: routed.principal)
        } catch {
            // A refused registration ends an earlier observation with the same token.
            if observe == 0 { deregister(key, reason: "read refused") }
            log(session).debug("refused GET of \(topic): \(error)", metadata: ["coap.code": "\(CoAPCode.forbidden)"])
            answer(response, .get, Rejection(.forbidden, "not allowed to read \(topic)"))
            return
        }
        let observed = ObservedTopic(topic: topic, principal: routed.principal)
        var retained = readable.first { $0.topic == topic }
        if let block = PDU.uint(request, UInt16(COAP_OPTION_BLOCK2)), block >> 4 > 0,
            let notified = largeNotifications[observed]
        {
            // A later block of a large notification: serve the notified message, retained or not.
            retained = notified
        }
        var observing = false
        switch observe {
        case 0?:
            if let rejection = register(key, observed: observed, session: session) {
                answer(response, .get, rejection)
                return
            }
            observing = true
            PDU.addUInt(response, UInt16(COAP_OPTION_OBSERVE), nextObserveSequence())
        case 1?:
            deregister(key, reason: "deregistered")
        default:
            break
        }
        guard let retained else {
            if observing {
                coap_pdu_set_code(response, wharf_coap_code(205))
                metrics.request(.get, .content)
            } else {
                answer(response, .get, Rejection(.notFound, "no retained message"))
            }
            return
        }
        coap_pdu_set_code(response, wharf_coap_code(205))
        let representation = Representation(retained, now: clock.now())
        let count = retained.payload.readableBytes
        let copy = malloc(max(count, 1))
        retained.payload.withUnsafeReadableBytes { bytes in
            if let base = bytes.baseAddress, let copy { memcpy(copy, base, count) }
        }
        guard let copy else {
            answer(response, .get, Rejection(.internalServerError, "out of memory"))
            return
        }
        _ = coap_add_data_large_response(
            resource,
            session,
            request,
            response,
            query,
            representation.contentFormat,
            representation.maxAge.map { Int32(clamping: $0) } ?? -1,
            0,
            count,
            copy.assumingMemoryBound(to: UInt8.self),
            wharfCoAPReleaseData,
            copy
        )
        metrics.request(.get, .content)
    }
}

extension Result {
    /// The error of a failure; `nil` for a success.
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

/// How a message is sent as a CoAP representation.
struct Representation {
    /// The Content-Format number.
    var contentFormat: UInt16
    /// Seconds left before the message expires, `nil` when it does not expire.
    var maxAge: UInt32?

    init(_ message: Message, now: UInt64) {
        if let type = message.properties.contentType, let format = ContentFormat.format(for: type) {
            contentFormat = format
        } else {
            contentFormat = message.properties.payloadFormatIndicator == 1 ? 0 : 42
        }
        if let interval = message.properties.messageExpiryInterval {
            let elapsed = now > message.receivedAt ? (now - message.receivedAt) / 1_000_000_000 : 0
            maxAge = elapsed >= UInt64(interval) ? 0 : interval - UInt32(elapsed)
        } else {
            maxAge = nil
        }
    }
}
