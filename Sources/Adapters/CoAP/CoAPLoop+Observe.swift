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

    /// Registers an observation, subscribing to its topic under the observer's principal when
    /// no observer acting as that principal has it yet. Returns why it was refused: the router
    /// does not let the principal read the topic (4.03; a registration of the same key for
    /// another topic ends too, as a non-2.xx answer ends an observation), or the observer limit
    /// is reached (5.03). A refused registration leaves no observer behind.
    func register(_ key: ObserverKey, observed: ObservedTopic, session: OpaquePointer) -> Rejection? {
        var fresh: BusSubscription?
        if topicSubscriptions[observed] == nil {
            let inbox = self.inbox
            do {
                fresh = try bus.subscribe(filter: observed.topic, qos: .atMostOnce, principal: observed.principal) {
                    message in
                    inbox.post(.message(message, observed: observed))
                }
            } catch {
                deregister(key, reason: "observation of \(observed.topic) refused")
                log(session).debug("observe of \(observed.topic) refused: \(error)")
                return Rejection(.forbidden, "not allowed to observe \(observed.topic)")
            }
        }
        switch observers.add(key, topic: observed) {
        case .limitReached:
            fresh?.cancel()
            log(session).warning("observer limit \(settings.observe.maxObservers) reached; refusing \(observed.topic)")
            return Rejection(.serviceUnavailable, "too many observers")
        case .added:
            _ = coap_session_reference(session)
        case .renewed(_, let emptied):
            if let emptied { dropSubscription(emptied) }
        }
        if let fresh { topicSubscriptions[observed] = fresh }
        metrics.observers.record(observers.count)
        return nil
    }

    /// Ends the bus subscription of an observed topic that has no observers left.
    private func dropSubscription(_ observed: ObservedTopic) {
        topicSubscriptions.removeValue(forKey: observed)?.cancel()
        largeNotifications[observed] = nil
    }

    /// Drops one observation (deregistered, reset, unanswered, session closed).
    func deregister(_ key: ObserverKey, reason: String) {
        guard let removed = observers.remove(key) else { return }
        if removed.topicEmptied { dropSubscription(removed.topic) }
        notificationCounts[key] = nil
        metrics.observers.record(observers.count)
        metrics.observersDropped.increment()
        if let session = OpaquePointer(bitPattern: key.session) {
            log(session).debug("observer of \(removed.topic.topic) dropped: \(reason)")
            coap_session_release(session)
        }
    }

    /// Drops every observation of a session that closed.
    func deregisterSession(_ session: OpaquePointer, reason: String) {
        let bits = UInt(bitPattern: session)
        let keys = observers.removeAll(where: { $0.session == bits })
        for (key, observed, emptied) in keys {
            if emptied { dropSubscription(observed) }
            notificationCounts[key] = nil
            metrics.observersDropped.increment()
            coap_session_release(session)
        }
        if !keys.isEmpty {
            metrics.observers.record(observers.count)
            log(session).debug("\(keys.count) observers dropped: \(reason)")
        }
    }

    /// Sends a message the router delivered for `observed` to the observers of `observed`.
    func notifyObservers(_ message: Message, observed: ObservedTopic) {
        let keys = observers.observers(of: observed)
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
                largeNotifications[observed] = message
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
