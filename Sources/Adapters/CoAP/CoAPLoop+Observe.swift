import AdapterKit
import CCoAP
import Logging
import Metrics
import NIOCore
import WharfCore

extension CoAPLoop {
    /// The next Observe option value (24 bits, increasing).
    func nextObserveSequence() -> UInt32 {
        observeSequence = (observeSequence &+ 1) & 0xFF_FFFF
        return observeSequence
    }

    /// Registers an observation; `false` when the observer limit is reached.
    func register(_ key: ObserverKey, topic: String, session: OpaquePointer) -> Bool {
        switch observers.add(key, topic: topic) {
        case .limitReached:
            log(session).warning("observer limit \(settings.observe.maxObservers) reached; refusing \(topic)")
            return false
        case .added(let first):
            _ = coap_session_reference(session)
            if first { subscribe(topic) }
        case .renewed(let first, let emptied):
            if let emptied { topicSubscriptions.removeValue(forKey: emptied)?.cancel() }
            if first { subscribe(topic) }
        }
        metrics.observers.record(observers.count)
        return true
    }

    private func subscribe(_ topic: String) {
        let inbox = self.inbox
        do {
            topicSubscriptions[topic] = try bus.subscribe(
                filter: topic, qos: .atMostOnce, principal: .adapter(adapterName)
            ) { message in
                inbox.post(.message(message))
            }
        } catch {
            logger.warning("cannot observe \(topic): \(error)")
        }
    }

    /// Drops one observation (deregistered, reset, unanswered, session closed).
    func deregister(_ key: ObserverKey, reason: String) {
        guard let removed = observers.remove(key) else { return }
        if removed.topicEmptied {
            topicSubscriptions.removeValue(forKey: removed.topic)?.cancel()
            largeNotifications[removed.topic] = nil
        }
        notificationCounts[key] = nil
        metrics.observers.record(observers.count)
        metrics.observersDropped.increment()
        if let session = OpaquePointer(bitPattern: key.session) {
            log(session).debug("observer of \(removed.topic) dropped: \(reason)")
            coap_session_release(session)
        }
    }

    /// Drops every observation of a session that closed.
    func deregisterSession(_ session: OpaquePointer, reason: String) {
        let bits = UInt(bitPattern: session)
        let keys = observers.removeAll(where: { $0.session == bits })
        for (key, topic, emptied) in keys {
            if emptied {
                topicSubscriptions.removeValue(forKey: topic)?.cancel()
                largeNotifications[topic] = nil
            }
            notificationCounts[key] = nil
            metrics.observersDropped.increment()
            coap_session_release(session)
        }
        if !keys.isEmpty {
            metrics.observers.record(observers.count)
            log(session).debug("\(keys.count) observers dropped: \(reason)")
        }
    }

    /// Sends a message published to an observed topic to its observers.
    func notifyObservers(_ message: Message) {
        let keys = observers.observers(of: message.topic)
        guard !keys.isEmpty else { return }
        let representation = Representation(message, now: clock.now())
        let sequence = nextObserveSequence()
        for key in keys {
            guard let session = OpaquePointer(bitPattern: key.session) else { continue }
            let count = (notificationCounts[key] ?? 0) + 1
            notificationCounts[key] = count
            // RFC 7641 §4.5: a NON observer is asked for an ACK now and then, so a vanished one is noticed.
            let confirmable = settings.observe.confirmable || count % 20 == 0
            let mid = Int32(coap_new_message_id(session))
            guard
                let pdu = coap_pdu_init(
                    confirmable ? COAP_MESSAGE_CON : COAP_MESSAGE_NON,
                    wharf_coap_code(205),
                    mid,
                    coap_session_max_pdu_size(session)
                )
            else { continue }
            PDU.setToken(pdu, key.token)
            PDU.addUInt(pdu, UInt16(COAP_OPTION_OBSERVE), sequence)
            PDU.addUInt(pdu, UInt16(COAP_OPTION_CONTENT_FORMAT), UInt32(representation.contentFormat))
            if let maxAge = representation.maxAge { PDU.addUInt(pdu, UInt16(COAP_OPTION_MAXAGE), maxAge) }
            let maxPDU = Int(coap_session_max_pdu_size(session))
            let block = NotificationBlock(payloadSize: message.payload.readableBytes, maxPDUSize: maxPDU)
            if let block {
                // RFC 7959 §2.6: the first block goes out; the observer GETs the rest with Block2.
                largeNotifications[message.topic] = message
                PDU.addUInt(pdu, UInt16(COAP_OPTION_BLOCK2), block.optionValue)
                PDU.addUInt(pdu, UInt16(COAP_OPTION_SIZE2), UInt32(clamping: message.payload.readableBytes))
            }
            let fits = message.payload.withUnsafeReadableBytes { bytes in
                PDU.addData(pdu, UnsafeRawBufferPointer(rebasing: bytes.prefix(block?.size ?? bytes.count)))
            }
            guard fits else {
                coap_delete_pdu(pdu)
                metrics.error(.malformed)
                log(session).warning("notification for \(message.topic) does not fit a datagram; not sent")
                continue
            }
            let sent = coap_send(session, pdu)
            guard sent != COAP_INVALID_MID else { continue }
            if confirmable {
                confirmableNotifications[ExchangeKey(session: key.session, mid: mid)] = key
                if confirmableNotifications.count > 4 * max(observers.count, 256) {
                    // Acknowledged notifications are never reported; forget the oldest bookkeeping.
                    confirmableNotifications.removeAll()
                }
            }
            metrics.notifications.increment()
        }
    }

    /// A confirmable message was reset or never acknowledged.
    func handleNack(session: OpaquePointer, mid: Int32, sent: OpaquePointer?, reason: coap_nack_reason_t) {
        let exchange = ExchangeKey(session: UInt(bitPattern: session), mid: mid)
        if let key = confirmableNotifications.removeValue(forKey: exchange) {
            deregister(key, reason: reason == COAP_NACK_RST ? "reset" : "no acknowledgement")
            return
        }
        if let sent { deviceRequestFailed(session: session, sent: sent, reason: reason) }
    }

    /// Session and DTLS events.
    func handleEvent(session: OpaquePointer, event: coap_event_t) {
        let bits = UInt(bitPattern: session)
        switch event {
        case COAP_EVENT_SERVER_SESSION_NEW:
            // A new session never inherits the subject of an earlier one at the same address.
            certificateSubjects[bits] = nil
        case COAP_EVENT_DTLS_CONNECTED:
            handshakes[bits] = nil
            if coap_session_get_type(session) == COAP_SESSION_TYPE_SERVER, dtlsSessions.insert(bits).inserted {
                metrics.dtlsSessions.record(dtlsSessions.count)
            }
        case COAP_EVENT_DTLS_CLOSED, COAP_EVENT_DTLS_ERROR:
            handshakes[bits] = nil
            certificateSubjects[bits] = nil
            if event == COAP_EVENT_DTLS_ERROR {
                metrics.error(.dtls)
                log(session).info("DTLS handshake or session failed")
            }
            if dtlsSessions.remove(bits) != nil { metrics.dtlsSessions.record(dtlsSessions.count) }
            deregisterSession(session, reason: "DTLS session closed")
            deviceSessionClosed(session)
        case COAP_EVENT_SERVER_SESSION_DEL:
            handshakes[bits] = nil
            certificateSubjects[bits] = nil
            if dtlsSessions.remove(bits) != nil { metrics.dtlsSessions.record(dtlsSessions.count) }
            deregisterSession(session, reason: "session removed")
        default:
            break
        }
    }
}
