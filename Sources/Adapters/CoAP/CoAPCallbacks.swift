import CCoAP
import Logging
import Metrics
import Synchronization
import WharfCore

#if canImport(Glibc)
    import Glibc
#endif

// libcoap calls these C functions on the thread that runs coap_io_process, which is the thread
// that owns the CoAPLoop stored as the context's app data; none of them captures anything.

/// The loop that owns the context of `session`.
private func loop(of session: OpaquePointer?) -> CoAPLoop? {
    guard let session, let context = coap_session_get_context(session),
        let data = coap_get_app_data(context)
    else { return nil }
    return Unmanaged<CoAPLoop>.fromOpaque(data).takeUnretainedValue()
}

/// Request handler of the adapter's resource (every method).
func wharfCoAPRequest(
    resource: OpaquePointer?,
    session: OpaquePointer?,
    request: OpaquePointer?,
    query: UnsafePointer<coap_string_t>?,
    response: OpaquePointer?
) {
    guard let resource, let session, let request, let response, let loop = loop(of: session) else { return }
    loop.handle(resource: resource, session: session, request: request, query: query, response: response)
}

/// Session, DTLS and block-transfer events.
func wharfCoAPEvent(session: OpaquePointer?, event: coap_event_t) -> Int32 {
    guard let session, let loop = loop(of: session) else { return 0 }
    loop.handleEvent(session: session, event: event)
    return 0
}

/// A confirmable message was reset or timed out.
func wharfCoAPNack(session: OpaquePointer?, sent: OpaquePointer?, reason: coap_nack_reason_t, mid: coap_mid_t) {
    guard let session, let loop = loop(of: session) else { return }
    loop.handleNack(session: session, mid: mid, sent: sent, reason: reason)
}

/// A response to a request of a client-side device session.
func wharfCoAPResponse(
    session: OpaquePointer?,
    sent: OpaquePointer?,
    received: OpaquePointer?,
    mid: coap_mid_t
) -> coap_response_t {
    guard let session, let received, let loop = loop(of: session) else { return COAP_RESPONSE_OK }
    return loop.deviceResponse(session: session, received: received) ? COAP_RESPONSE_OK : COAP_RESPONSE_FAIL
}

/// Frees the copy of a representation handed to coap_add_data_large_response.
func wharfCoAPReleaseData(session: OpaquePointer?, data: UnsafeMutableRawPointer?) {
    free(data)
}

/// The key of a PSK identity presented by a client; `nil` refuses the handshake.
func wharfCoAPValidatePSK(
    identity: UnsafeMutablePointer<coap_bin_const_t>?,
    session: OpaquePointer?,
    argument: UnsafeMutableRawPointer?
) -> UnsafePointer<coap_bin_const_t>? {
    guard let argument, let identity, let bytes = identity.pointee.s else { return nil }
    let loop = Unmanaged<CoAPLoop>.fromOpaque(argument).takeUnretainedValue()
    let name = String(decoding: UnsafeBufferPointer(start: bytes, count: identity.pointee.length), as: UTF8.self)
    guard let key = loop.pskKeys[name] else {
        loop.metrics.error(.dtls)
        if let session { loop.log(session).info("unknown PSK identity '\(name)'") }
        return nil
    }
    if let session, loop.handshakes[UInt(bitPattern: session)] == nil {
        loop.handshakes[UInt(bitPattern: session)] = (PDU.peer(session), name, loop.clock.now())
    }
    return UnsafePointer(key)
}

extension CoAPLoop {
    /// Sets up PSK (and PKI when configured: client certificates required and verified against
    /// `ca_file`, their subjects recorded by `wharfCoAPValidateCertificate`) and the DTLS endpoint.
    func startDTLS(_ context: OpaquePointer) -> Result<Void, StartError> {
        guard coap_dtls_is_supported() != 0 else {
            return .failure(StartError(description: "this libcoap has no DTLS support"))
        }
        for entry in settings.dtls.psk {
            let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: max(entry.key.count, 1))
            bytes.initialize(from: entry.key, count: entry.key.count)
            let key = UnsafeMutablePointer<coap_bin_const_t>.allocate(capacity: 1)
            key.initialize(to: coap_bin_const_t(length: entry.key.count, s: bytes))
            pskKeys[entry.identity] = key
        }
        if settings.dtls.usesPKI {
            // Validated settings never get here without a CA; without one no client could verify.
            guard !settings.dtls.caFile.isEmpty else {
                return .failure(StartError(description: "dtls.cert_file needs dtls.ca_file to verify clients"))
            }
            // libcoap keeps these pointers and reads the files again for every DTLS session.
            let cert = strdup(settings.dtls.certFile)
            let key = strdup(settings.dtls.keyFile)
            let ca = strdup(settings.dtls.caFile)
            ownedStrings += [cert, key, ca].compactMap { $0 }
            let argument = Unmanaged.passUnretained(self).toOpaque()
            guard let cert, let key, let ca,
                wharf_coap_set_pki(context, cert, key, ca, wharfCoAPValidateCertificate, argument) != 0
            else {
                return .failure(StartError(description: "cannot load cert_file/key_file/ca_file for DTLS"))
            }
        }
        if !settings.dtls.psk.isEmpty {
            var setup = coap_dtls_spsk_t()
            setup.version = UInt8(COAP_DTLS_SPSK_SETUP_VERSION)
            setup.validate_id_call_back = wharfCoAPValidatePSK
            setup.id_call_back_arg = Unmanaged.passUnretained(self).toOpaque()
            // The first identity's key is the default libcoap falls back on; the callback decides.
            if let first = settings.dtls.psk.first, let key = pskKeys[first.identity] {
                setup.psk_info.key = key.pointee
            }
            guard coap_context_set_psk2(context, &setup) != 0 else {
                return .failure(StartError(description: "libcoap refused the PSK setup"))
            }
        }
        var address = coap_address_t()
        guard wharf_coap_address(settings.bind, UInt16(settings.dtls.port), &address) == 0,
            coap_new_endpoint(context, &address, COAP_PROTO_DTLS) != nil
        else {
            return .failure(StartError(description: "cannot listen on \(settings.bind):\(settings.dtls.port) (DTLS)"))
        }
        return .success(())
    }
}

/// Where libcoap's own messages go (libcoap has one process-wide log handler), and the counter
/// of datagrams it discards as malformed.
private let libcoapLogger = Mutex<(logger: Logger, malformed: Counter)?>(nil)

/// Routes libcoap's messages into swift-log, one level lower than libcoap rates them: a peer's
/// failed handshake is an error to libcoap but routine for a gateway.
///
/// libcoap 4.3.1 drops a datagram it cannot parse before any handler sees it and has no event
/// for it; its warning "discard malformed PDU" is the only sign, so that is what is counted as
/// `wharf_coap_errors_total{kind="malformed"}`.
func routeLibcoapLogs(to logger: Logger, adapter: String) {
    var logger = logger
    logger[metadataKey: "coap.source"] = "libcoap"
    let malformed = Counter(
        label: "wharf_coap_errors_total",
        dimensions: [("adapter", adapter), ("kind", CoAPMetrics.ErrorKind.malformed.rawValue)]
    )
    libcoapLogger.withLock { $0 = (logger, malformed) }
    coap_set_log_handler(wharfCoAPLog)
    coap_set_log_level(logger.logLevel <= .debug ? LOG_INFO : LOG_WARNING)
}

/// libcoap's log handler.
func wharfCoAPLog(level: coap_log_t, message: UnsafePointer<CChar>?) {
    guard let message, let (logger, malformed) = libcoapLogger.withLock({ $0 }) else { return }
    var text = String(cString: message)
    while text.last == "\n" { text.removeLast() }
    if text.hasPrefix("discard malformed PDU") {
        malformed.increment()
    }
    switch level {
    case LOG_EMERG, LOG_ALERT, LOG_CRIT, LOG_ERR: logger.warning("\(text)")
    case LOG_WARNING: logger.info("\(text)")
    default: logger.debug("\(text)")
    }
}
