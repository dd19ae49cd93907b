import Logging
import MQTTCodec
import NIOCore
import Synchronization
import WharfAuth
import WharfConfig
import WharfCore

extension MQTTConnectionHandler {
    /// CONNECT: authenticate, apply limits, assign an identifier, take the session over from
    /// any older connection, answer CONNACK and resume delivery (MQTT §3.1, §3.2).
    func handleConnect(_ connect: ConnectPacket, context: ChannelHandlerContext) {
        version = connect.protocolVersion
        if let problem = ClientIdentifierRule.refusal(for: connect) {
            logger.info("refusing CONNECT: \(problem)")
            refuse(.clientIdentifierNotValid, context: context)
            return
        }
        if version == .v5, let limit = connect.properties.maximumPacketSize {
            clientMaximumPacketSize = Int(limit)
        }
        requestProblemInformation = connect.properties.requestProblemInformation != 0

        if connect.properties.authenticationMethod != nil {
            refuse(.badAuthenticationMethod, context: context)
            return
        }
        guard admitsWithinLimits(connect, context: context) else { return }
        // A full broker spends no password check on a client it would refuse anyway.
        let maxConnections = broker.config.maxConnections
        if maxConnections > 0, broker.connectedClients >= maxConnections {
            logger.warning("refusing client: max_connections (\(maxConnections)) reached")
            refuse(.quotaExceeded, context: context)
            return
        }
        authenticate(connect, context: context)
    }

    /// CONNECT once its credentials are checked (at once, or after a check on the thread pool).
    func admitConnect(_ connect: ConnectPacket, decision: AccessControl.Decision, context: ChannelHandlerContext) {
        let config = broker.config
        switch decision {
        case .accepted:
            break
        case .anonymousRefused:
            refuse(.notAuthorized, context: context)
            return
        case .credentialsRefused:
            // The user name helps an operator find a misconfigured device; the password is never logged.
            logger[metadataKey: "mqtt.username"] = "\(connect.username ?? "")"
            refuse(.badUserNameOrPassword, context: context)
            return
        }
        // Again: other clients may have connected while the password was checked.
        if config.maxConnections > 0, broker.connectedClients >= config.maxConnections {
            logger.warning("refusing client: max_connections (\(config.maxConnections)) reached")
            refuse(.quotaExceeded, context: context)
            return
        }

        var identifier = connect.clientIdentifier
        if config.useUsernameAsClientID, let username = connect.username {
            // Each user has one client id: nobody reaches another user's session by naming it.
            identifier = username
        }
        var assignedIdentifier: String? = identifier == connect.clientIdentifier ? nil : identifier
        if identifier.isEmpty {
            if version != .v5 && !connect.cleanStart {
                refuse(.clientIdentifierNotValid, context: context)
                return
            }
            identifier = Self.makeClientIdentifier()
            assignedIdentifier = identifier
        }
        clientIdentifier = identifier
        logger.clientIdentifier = identifier
        let principal = Principal.client(username: connect.username, clientIdentifier: identifier, listener: listener)
        self.principal = principal

        if let connectWill = connect.will, mayPublishWill(connectWill.topic, principal: principal) {
            if connectWill.retain && !config.retainAvailable {
                refuse(.retainNotSupported, context: context)
                return
            }
            will = Message(
                topic: connectWill.topic,
                payload: connectWill.payload,
                qos: connectWill.qos,
                retain: connectWill.retain,
                properties: connectWill.properties.messageProperties,
                principal: principal
            )
            willDelay = connectWill.properties.willDelayInterval ?? 0
        }

        var keepAlive = Int(connect.keepAlive)
        var serverKeepAlive: UInt16?
        if version == .v5, config.maxKeepAlive > 0, keepAlive == 0 || keepAlive > config.maxKeepAlive {
            keepAlive = config.maxKeepAlive
            serverKeepAlive = UInt16(keepAlive)
        }

        let requestedExpiry: UInt32 =
            version == .v5 ? (connect.properties.sessionExpiryInterval ?? 0) : (connect.cleanStart ? 0 : .max)
        let expiry = clampedExpiry(requestedExpiry)
        connectSessionExpiry = requestedExpiry

        var acknowledgement = connAck(
            sessionPresent: false, assignedIdentifier: assignedIdentifier,
            serverKeepAlive: serverKeepAlive, grantedExpiry: expiry == requestedExpiry ? nil : expiry)
        guard connAckFits(acknowledgement, context: context) else { return }

        // CONNACK goes out before anything the session resends: it is queued on this read batch,
        // and the session's packets are flushed by a later event-loop task.
        let request = MQTTBroker.SessionRequest(
            clientIdentifier: identifier,
            cleanStart: connect.cleanStart,
            principal: principal,
            expiry: expiry,
            attachment: Session.Attachment(
                channel: context.channel,
                version: version,
                generation: 0,
                maximumPacketSize: Int(connect.properties.maximumPacketSize ?? 268_435_460)
            ),
            receiveMaximum: Int(connect.properties.receiveMaximum ?? 65_535)
        )
        let claim: MQTTBroker.SessionClaim
        switch broker.claimSession(request, now: broker.clock.now()) {
        case .success(let claimed):
            claim = claimed
        case .failure(.ownedByAnotherUser):
            logger.warning("refusing client: its client id belongs to a session of another user")
            refuse(.notAuthorized, context: context)
            return
        case .failure(.sessionLimitReached):
            broker.statistics.recordLimitHit(.sessions)
            logger.warning("refusing client: max_sessions (\(config.maxSessions)) reached")
            refuse(.quotaExceeded, context: context)
            return
        }
        claim.displaced?.disconnect(.sessionTakenOver)
        let session = claim.session
        acknowledgement.sessionPresent = claim.sessionPresent
        send(.connAck(acknowledgement), context: context)
        state = .connected(session, generation: claim.generation)
        broker.statistics.clientConnected()
        startKeepAlive(seconds: keepAlive, context: context)
        logger.debug(
            "client connected",
            metadata: [
                "mqtt.version": "\(version)",
                "mqtt.clean_start": "\(connect.cleanStart)",
                "mqtt.session_present": "\(claim.sessionPresent)",
            ]
        )
    }

    private func connAck(
        sessionPresent: Bool,
        assignedIdentifier: String?,
        serverKeepAlive: UInt16?,
        grantedExpiry: UInt32?
    ) -> ConnAckPacket {
        var properties = MQTTProperties()
        if version == .v5 {
            let config = broker.config
            if config.maxInflightMessages < 65_535 {
                properties.receiveMaximum = UInt16(config.maxInflightMessages)
            }
            if broker.maximumPacketSize < 268_435_460 {
                properties.maximumPacketSize = UInt32(broker.maximumPacketSize)
            }
            properties.topicAliasMaximum = UInt16(config.maxTopicAlias)
            if !config.retainAvailable { properties.retainAvailable = 0 }
            if !config.sharedSubscriptions { properties.sharedSubscriptionAvailable = 0 }
            properties.assignedClientIdentifier = assignedIdentifier
            properties.serverKeepAlive = serverKeepAlive
            properties.sessionExpiryInterval = grantedExpiry
        }
        return ConnAckPacket(
            sessionPresent: sessionPresent, reasonCode: ReasonCode.success.rawValue, properties: properties)
    }

    /// Refuses a CONNECT with `reason` (mapped to a 3.1 / 3.1.1 return code for old clients) and closes.
    func refuse(_ reason: ReasonCode, context: ChannelHandlerContext) {
        broker.statistics.protocolErrors.add(1, ordering: .relaxed)
        let code = version == .v5 ? reason.rawValue : reason.connectReturnCode
        logger.info("refusing CONNECT", metadata: ["mqtt.reason_code": "\(reason.rawValue)"])
        send(
            .connAck(ConnAckPacket(sessionPresent: false, reasonCode: code, properties: MQTTProperties())),
            context: context)
        will = nil
        close(context: context)
    }

    /// Whether the router would let this client's will be published. A forbidden will is
    /// dropped and the client still connects, as with Mosquitto; the router checks it again
    /// when it is published.
    private func mayPublishWill(_ topic: String, principal: Principal) -> Bool {
        guard let refusal = broker.router.checkPublish(topic, by: principal) else { return true }
        logger.info("will dropped: \(refusal)", metadata: ["mqtt.topic": "\(topic)"])
        return false
    }

    /// Applies `max_session_expiry` to what the client asked for.
    private func clampedExpiry(_ requested: UInt32) -> UInt32 {
        guard let limit = broker.config.maxSessionExpiry else { return requested }
        let seconds = limit.components.seconds
        return UInt32(clamping: min(Int64(requested), seconds))
    }

    static func makeClientIdentifier() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return "wharf-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// DISCONNECT from the client: a normal end discards the will unless the reason is 0x04;
    /// MQTT 5 may change the session expiry, but not from zero (§3.14.2.2.2).
    func handleDisconnect(_ disconnect: DisconnectPacket, session: Session, context: ChannelHandlerContext) {
        if version == .v5, let newExpiry = disconnect.properties.sessionExpiryInterval {
            if connectSessionExpiry == 0 && newExpiry != 0 {
                violation(.protocolError, "session expiry raised from 0 in DISCONNECT", context: context)
                return
            }
            let expiry = clampedExpiry(newExpiry)
            session.core.withLock { core in
                if core.persisted && expiry == 0 {
                    // No longer persistent: the session ends when this connection closes, and
                    // stored copies of its messages must not outlive it.
                    session.store?.deleteSession(clientIdentifier: session.clientIdentifier)
                    core.persisted = false
                }
                core.expiryInterval = expiry
            }
        }
        if disconnect.reasonCode != .disconnectWithWill {
            will = nil
        }
        close(context: context)
    }
}
