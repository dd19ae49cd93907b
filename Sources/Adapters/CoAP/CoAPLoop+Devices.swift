import AdapterKit
import CCoAP
import Logging
import Metrics
import NIOCore
import WharfCore

extension CoAPLoop {
    /// Subscribes the command topics of the devices.
    func startDevices() {
        let inbox = self.inbox
        for (index, device) in settings.devices.enumerated() where !device.commandTopic.isEmpty {
            do {
                let subscription = try bus.subscribe(
                    filter: device.commandTopic, qos: .atLeastOnce, principal: .adapter(adapterName)
                ) { message in
                    inbox.post(.command(device: index, message))
                }
                devices.subscriptions.append(subscription)
            } catch {
                logger.warning("device \(device.name): cannot subscribe to \(device.commandTopic): \(error)")
            }
        }
    }

    /// Releases failed sessions and sends the polls that are due.
    func devicesTick() {
        guard !settings.devices.isEmpty, !stopping else { return }
        for session in devices.broken { coap_session_release(session) }
        devices.broken.removeAll()
        for index in devices.schedule.due(now: clock.now()) {
            let device = settings.devices[index]
            let observe = device.mode == .observe
            // A device that has not answered the last poll is not sent another one; libcoap would
            // only queue it behind the first (NSTART 1).
            if !observe && devices.requests.values.contains(where: { $0.device == index && $0.kind == .read }) {
                continue
            }
            if observe { devices.schedule.pause(index) }
            sendRequest(device: index, code: COAP_REQUEST_CODE_GET, kind: observe ? .observe : .read, payload: nil)
        }
    }

    /// Sends a command message to its device.
    func sendCommand(device index: Int, _ message: Message) {
        guard settings.devices.indices.contains(index), !stopping else { return }
        let method = settings.devices[index].method == .post ? COAP_REQUEST_CODE_POST : COAP_REQUEST_CODE_PUT
        sendRequest(device: index, code: method, kind: .command, payload: message)
    }

    private func session(for index: Int) -> OpaquePointer? {
        if let session = devices.sessions[index] { return session }
        guard let context else { return nil }
        let device = settings.devices[index]
        var address = coap_address_t()
        guard wharf_coap_resolve(device.uri.host, UInt16(device.uri.port), &address) == 0 else {
            metrics.error(.client)
            logger.warning("device \(device.name): cannot resolve \(device.uri.host)")
            return nil
        }
        let session: OpaquePointer?
        if device.uri.secure {
            session = device.pskIdentity.utf8CString.withUnsafeBufferPointer { identity in
                device.pskKey.withUnsafeBufferPointer { key in
                    var setup = coap_dtls_cpsk_t()
                    setup.version = UInt8(COAP_DTLS_CPSK_SETUP_VERSION)
                    setup.psk_info.identity = coap_bin_const_t(
                        length: identity.count - 1,
                        s: UnsafeRawPointer(identity.baseAddress)?.assumingMemoryBound(to: UInt8.self)
                    )
                    setup.psk_info.key = coap_bin_const_t(length: key.count, s: key.baseAddress)
                    return coap_new_client_session_psk2(context, nil, &address, COAP_PROTO_DTLS, &setup)
                }
            }
        } else {
            session = coap_new_client_session(context, nil, &address, COAP_PROTO_UDP)
        }
        guard let session else {
            metrics.error(.client)
            logger.warning("device \(device.name): cannot open a session to \(device.uri)")
            return nil
        }
        devices.sessions[index] = session
        return session
    }

    private func sendRequest(device index: Int, code: coap_pdu_code_t, kind: DeviceClients.Kind, payload: Message?) {
        let device = settings.devices[index]
        guard let session = session(for: index) else {
            if kind == .observe { devices.schedule.retry(index, now: clock.now()) }
            return
        }
        guard
            let pdu = coap_pdu_init(
                COAP_MESSAGE_CON, code, Int32(coap_new_message_id(session)), coap_session_max_pdu_size(session))
        else { return }
        var tokenLength = 0
        var token = [UInt8](repeating: 0, count: 8)
        coap_session_new_token(session, &tokenLength, &token)
        let tokenBytes = Array(token.prefix(tokenLength))
        PDU.setToken(pdu, tokenBytes)
        if kind == .observe { PDU.addUInt(pdu, UInt16(COAP_OPTION_OBSERVE), 0) }
        for segment in device.uri.path { PDU.add(pdu, UInt16(COAP_OPTION_URI_PATH), Array(segment.utf8)) }
        if let payload, let type = payload.properties.contentType, let format = ContentFormat.format(for: type) {
            PDU.addUInt(pdu, UInt16(COAP_OPTION_CONTENT_FORMAT), UInt32(format))
        }
        for query in device.uri.query { PDU.add(pdu, UInt16(COAP_OPTION_URI_QUERY), Array(query.utf8)) }
        if let payload {
            let count = payload.payload.readableBytes
            let copy = malloc(max(count, 1))
            guard let copy else {
                coap_delete_pdu(pdu)
                return
            }
            payload.payload.withUnsafeReadableBytes { bytes in
                if let base = bytes.baseAddress { memcpy(copy, base, count) }
            }
            _ = coap_add_data_large_request(
                session, pdu, count, copy.assumingMemoryBound(to: UInt8.self), wharfCoAPReleaseData, copy)
        }
        devices.requests[DeviceClients.RequestKey(session, tokenBytes)] = DeviceClients.Request(
            device: index, kind: kind)
        if coap_send(session, pdu) == COAP_INVALID_MID {
            devices.requests[DeviceClients.RequestKey(session, tokenBytes)] = nil
            metrics.error(.client)
            if kind == .observe { devices.schedule.retry(index, now: clock.now()) }
        }
    }

    /// A response or notification from a device; `false` makes libcoap reset an unknown one.
    func deviceResponse(session: OpaquePointer, received: OpaquePointer) -> Bool {
        let token = DeviceClients.RequestKey(session, PDU.token(received))
        guard let request = devices.requests[token] else { return false }
        let device = settings.devices[request.device]
        let code = CoAPCode(wireValue: UInt8(truncatingIfNeeded: coap_pdu_get_code(received).rawValue))
        let body = PDU.body(received)
        var bytes = ByteBufferAllocator().buffer(capacity: body.count)
        if let pointer = body.pointer, body.count > 0 {
            bytes.writeBytes(UnsafeRawBufferPointer(start: pointer, count: body.count))
        }
        switch request.kind {
        case .command:
            devices.requests[token] = nil
            let result = CommandResult(code: code, payload: bytes.getString(at: 0, length: bytes.readableBytes) ?? "")
            var properties = MessageProperties()
            properties.contentType = "application/json"
            var json = ByteBufferAllocator().buffer(capacity: 64)
            json.writeString(result.json)
            publishUnanswered(
                Message(
                    topic: device.resultTopic, payload: json, qos: device.qos, properties: properties,
                    principal: .adapter(adapterName)))
        case .read, .observe:
            if request.kind == .read { devices.requests[token] = nil }
            guard code.codeClass == 2 else {
                metrics.error(.client)
                logger.info("device \(device.name): \(device.uri) answered \(code)")
                if request.kind == .observe {
                    devices.requests[token] = nil
                    devices.schedule.retry(request.device, now: clock.now())
                }
                return true
            }
            if request.kind == .observe && PDU.uint(received, UInt16(COAP_OPTION_OBSERVE)) == nil {
                // The device does not support Observe: it answered once, so poll it instead.
                devices.requests[token] = nil
                devices.schedule.retry(request.device, now: clock.now())
            }
            var properties = MessageProperties()
            if let format = PDU.uint(received, UInt16(COAP_OPTION_CONTENT_FORMAT)), format <= UInt32(UInt16.max) {
                properties.contentType = ContentFormat.contentType(for: UInt16(format))
            }
            publishUnanswered(
                Message(
                    topic: device.topic, payload: bytes, qos: device.qos, properties: properties,
                    principal: .adapter(adapterName)))
        }
        return true
    }

    /// A device request was reset or timed out.
    func deviceRequestFailed(session: OpaquePointer, sent: OpaquePointer, reason: coap_nack_reason_t) {
        let token = DeviceClients.RequestKey(session, PDU.token(sent))
        guard let request = devices.requests.removeValue(forKey: token) else { return }
        let device = settings.devices[request.device]
        metrics.error(.client)
        logger.info("device \(device.name): no answer from \(device.uri) (\(reason.rawValue))")
        if request.kind == .observe { devices.schedule.retry(request.device, now: clock.now()) }
        if request.kind == .command {
            var json = ByteBufferAllocator().buffer(capacity: 64)
            json.writeString(CommandResult(code: nil, payload: "no answer").json)
            var properties = MessageProperties()
            properties.contentType = "application/json"
            publishUnanswered(
                Message(
                    topic: device.resultTopic, payload: json, qos: device.qos, properties: properties,
                    principal: .adapter(adapterName)))
        }
    }

    /// A device's DTLS session closed: reopen it on the next request.
    func deviceSessionClosed(_ session: OpaquePointer) {
        guard let index = devices.device(of: session) else { return }
        devices.sessions[index] = nil
        devices.broken.append(session)
        for (token, request) in devices.requests where request.device == index {
            devices.requests[token] = nil
            if request.kind == .observe { devices.schedule.retry(index, now: clock.now()) }
        }
    }
}

/// The JSON published to a device's `result_topic` for a command's response.
struct CommandResult: Equatable {
    /// The response code, `nil` when none came.
    var code: CoAPCode?
    /// The response payload as text.
    var payload: String

    /// `{"code": "2.04", "payload": "..."}`; without a response the code is `"timeout"`.
    var json: String {
        "{\"code\": \"\(code?.description ?? "timeout")\", \"payload\": \(JSONString.quoted(payload))}"
    }
}
