import Logging
import MQTTCodec
import NIOCore
import Synchronization
import WharfCore

extension UplinkService {
    /// Runs an accepted connection: announces "online", subscribes, then sends, receives and keeps alive
    /// until the link is lost, the service stops, or (from `failbackAt` on, when the preferred endpoint
    /// answers) the uplink goes back to the preferred endpoint.
    func serve(_ link: UplinkLink, _ inbound: inout Inbound, failbackAt: UInt64?) async -> ConnectionOutcome {
        let parameters = link.parameters
        let now = clock.now()
        shared.withLock { shared in
            shared.activeChannel = ObjectIdentifier(link.channel)
            shared.window.connected(parameters)
            shared.keepAlive = KeepAliveSchedule(keepAlive: parameters.keepAlive, now: now)
            shared.rejectionsLogged = 0
            shared.localRefusalsLogged = 0
            shared.rateLimiter = parameters.limits.maxPublishRate.map { PublishRateLimiter(rate: $0.value, now: now) }
            shared.status.limits.publishRate = parameters.limits.maxPublishRate?.value
            // A failback's goodbye stopped the sending of the previous connection.
            shared.stopping = false
            shared.maximumQoSReported = false
            shared.status.refusals.heldByMaximumQoS = false
            shared.window.setLimit(shared.throttle.window)
            if parameters.clientIdentifier != configuration.clientIdentifier {
                shared.assignedClientIdentifier = parameters.clientIdentifier
            }
            if !parameters.sessionPresent { shared.receivedExactlyOnce.removeAll() }
            shared.status.lastError = nil
        }
        defer {
            shared.withLock { shared in
                shared.activeChannel = nil
                shared.window.disconnected()
                shared.keepAlive = nil
                shared.rateLimiter = nil
                shared.status.limits.publishRate = nil
            }
        }
        transition(
            to: .connected,
            details: [
                "mqtt.version": "\(parameters.version)",
                "mqtt.client_id": "\(parameters.clientIdentifier)",
                "mqtt.session_present": "\(parameters.sessionPresent)",
                "mqtt.receive_maximum": "\(parameters.receiveMaximum)",
                "mqtt.keep_alive": "\(parameters.keepAlive)",
                "uplink.window": "\(parameters.windowCapacity(maxInflight: configuration.maxInflight))",
                "uplink.resend": "\(shared.withLock { $0.window.pendingResends })",
                "uplink.limits": "\(parameters.limits.summary)",
            ]
        )
        let subscribed = AsyncSignal()
        return await withTaskGroup(of: Void.self) { group in
            if let control = configuration.control {
                group.addTask {
                    await subscribed.wait()
                    guard !Task.isCancelled else { return }
                    control.onConnection(self.endpoint)
                    await self.publishControl(control, on: link)
                }
            }
            group.addTask {
                do {
                    try await self.publishStatus("online", on: link)
                    try await self.subscribe(on: link)
                } catch {
                    link.fail(self.describing(error))
                    return
                }
                subscribed.signal()
                await self.sendUntilStopped(on: link)
            }
            group.addTask { await self.keepAlive(on: link) }
            if let failbackAt {
                group.addTask { await self.failBack(from: link, at: failbackAt) }
            }
            do {
                try await receive(&inbound, on: link)
                link.fail(UplinkError(.connectionClosed, "\(endpoint) closed the connection"))
            } catch {
                link.fail(describing(error))
            }
            group.cancelAll()
            await group.waitForAll()
            configuration.control?.onConnection(nil)
            switch link.outcome {
            case .stopped: return .stopped
            case .failback: return .failback
            case .failed(let error): return .failed(error)
            case nil: return .failed(UplinkError(.connectionClosed, "\(endpoint) closed the connection"))
            }
        }
    }

    /// The endpoint in use or being tried.
    var currentEndpoint: UplinkEndpoint {
        let index = shared.withLock { $0.endpointIndex }
        return configuration.endpoints.indices.contains(index)
            ? configuration.endpoints[index] : configuration.preferred
    }

    /// "host:port" of the endpoint in use, for messages.
    var endpoint: String { "\(currentEndpoint)" }

    /// An error on an established link as an `UplinkError` naming the host: a socket error there is
    /// a lost connection, not a failure to connect.
    func describing(_ error: any Error) -> UplinkError {
        let endpoint = currentEndpoint
        let described = UplinkError.describing(error, host: endpoint.host, port: endpoint.port)
        guard described.kind == .connectFailed else { return described }
        return UplinkError(.connectionClosed, "lost the connection to \(endpoint): \(error)")
    }

    /// Writes packets as one buffer and notes the activity for keep alive and the byte counter.
    func write(_ packets: [MQTTPacket], on link: UplinkLink) async throws {
        let buffer = try link.encode(packets)
        try await write(buffer, on: link)
    }

    /// Writes an encoded buffer and notes the activity.
    func write(_ buffer: ByteBuffer, on link: UplinkLink) async throws {
        try await link.outbound.write(buffer)
        let now = clock.now()
        shared.withLock { shared in
            shared.status.bytesSent += buffer.readableBytes
            shared.keepAlive?.sent(at: now)
        }
    }

    /// What became of a status publish.
    enum StatusPublish {
        /// Sent at QoS 1 and awaiting the PUBACK of this identifier.
        case awaiting(UInt16)
        /// Sent at QoS 0 to a cloud whose Maximum QoS is 0: nothing to wait for.
        case sent
        /// Not sent: the server's window was full.
        case windowFull
    }

    /// Publishes the retained status: QoS 1, or QoS 0 where the cloud's Maximum QoS is 0 (a QoS 1
    /// publish would be a protocol error there).
    @discardableResult
    func publishStatus(_ text: String, on link: UplinkLink) async throws -> StatusPublish {
        let exactlyOnce = link.parameters.maximumQoS != .atMostOnce
        var identifier: UInt16? = nil
        if exactlyOnce {
            guard let reserved = shared.withLock({ $0.window.reserveStatus() }) else { return .windowFull }
            identifier = reserved
        }
        var properties = MQTTProperties()
        if link.parameters.version == .v5 && text == "online" {
            // Which cloud node the gateway is on, for operators watching the status topic.
            properties.userProperties = [UserProperty("endpoint", endpoint)]
        }
        let packet = PublishPacket(
            topic: configuration.statusTopic,
            payload: ByteBuffer(string: text),
            qos: identifier == nil ? .atMostOnce : .atLeastOnce,
            retain: link.parameters.retainAvailable,
            packetIdentifier: identifier,
            properties: properties
        )
        try await write([.publish(packet)], on: link)
        return identifier.map { .awaiting($0) } ?? .sent
    }

    /// Subscribes to the remote subscriptions in one SUBSCRIBE; the SUBACK is checked when it arrives.
    private func subscribe(on link: UplinkLink) async throws {
        let control = configuration.control?.subscriptions ?? []
        guard !configuration.subscriptions.isEmpty || !control.isEmpty,
            let identifier = shared.withLock({ $0.window.reserveSubscription() })
        else { return }
        let noLocal = link.parameters.version == .v5
        var entries = configuration.subscriptions.map { subscription in
            // No Local (MQTT 5): a remote filter that also matches what the uplink publishes must not
            // bring those messages back into the local broker, where uplink rules could send them out again.
            TopicSubscription(
                topicFilter: subscription.remoteFilter,
                options: SubscriptionOptions(qos: subscription.qos, noLocal: noLocal)
            )
        }
        // After the remote subscriptions, so the SUBACK's codes keep their positions.
        entries += control.map {
            TopicSubscription(topicFilter: $0, options: SubscriptionOptions(qos: .atLeastOnce, noLocal: noLocal))
        }
        try await write([.subscribe(SubscribePacket(packetIdentifier: identifier, subscriptions: entries))], on: link)
    }

    /// Publishes the control channel's retained messages (QoS 1, retained): all of them when the
    /// connection starts, then each one that changes, until the connection ends.
    private func publishControl(_ control: UplinkControl, on link: UplinkLink) async {
        control.connectionStarted()
        while !Task.isCancelled {
            while let (topic, payload) = control.takeUnpublished() {
                if link.parameters.maximumQoS == .atMostOnce {
                    // A QoS 1 publish would be a protocol error on this cloud.
                    let packet = PublishPacket(
                        topic: topic, payload: ByteBuffer(bytes: payload), qos: .atMostOnce,
                        retain: link.parameters.retainAvailable)
                    do {
                        try await write([.publish(packet)], on: link)
                    } catch {
                        control.putBack(topic)
                        link.fail(describing(error))
                        return
                    }
                    continue
                }
                guard let identifier = shared.withLock({ $0.window.reserveStatus() }) else {
                    // The window is full: try again when PUBACKs free room.
                    control.putBack(topic)
                    await windowSignal.wait()
                    if Task.isCancelled { return }
                    continue
                }
                let packet = PublishPacket(
                    topic: topic, payload: ByteBuffer(bytes: payload), qos: .atLeastOnce,
                    retain: link.parameters.retainAvailable, packetIdentifier: identifier)
                do {
                    try await write([.publish(packet)], on: link)
                } catch {
                    control.putBack(topic)
                    link.fail(describing(error))
                    return
                }
            }
            await control.changed.wait()
        }
    }

    /// Sends PINGREQ when the link has been quiet and ends it when the server stops answering.
    private func keepAlive(on link: UplinkLink) async {
        while !Task.isCancelled {
            let now = clock.now()
            let action = shared.withLock { $0.keepAlive?.action(at: now) } ?? .disabled
            switch action {
            case .disabled:
                return
            case .ping:
                do {
                    try await write([.pingReq], on: link)
                    let sentAt = clock.now()
                    shared.withLock { $0.keepAlive?.pinged(at: sentAt) }
                } catch {
                    link.fail(describing(error))
                    return
                }
            case .timeout:
                let seconds = link.parameters.keepAlive
                link.fail(UplinkError(.timeout, "\(endpoint) did not answer PINGREQ within \(seconds) s"))
                return
            case .sleep(let until):
                try? await Task.sleep(for: .nanoseconds(Int64(clamping: until &- min(until, now))))
            }
        }
    }
}
