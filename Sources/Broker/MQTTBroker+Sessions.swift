import MQTTCodec
import NIOCore
import Synchronization
import WharfAuth
import WharfConfig
import WharfCore

extension MQTTBroker {
    /// What a CONNECT asks of the session registry.
    struct SessionRequest {
        var clientIdentifier: String
        var cleanStart: Bool
        /// The connecting client.
        var principal: Principal
        /// The session expiry granted, in seconds.
        var expiry: UInt32
        /// The connection, with generation 0 (the registry numbers it).
        var attachment: Session.Attachment
        /// The client's MQTT 5 Receive Maximum.
        var receiveMaximum: Int
    }

    /// The result of taking a session for a new connection.
    struct SessionClaim {
        var session: Session
        /// Exactly "a session was resumed" (MQTT §3.2.2.1.1).
        var sessionPresent: Bool
        /// The number of this connection's attachment, for ``release(_:generation:will:willDelay:)``.
        var generation: UInt64
        /// The connection that held the session (or an older session of the same client id)
        /// and must now be disconnected with reason 0x8E.
        var displaced: Session.Attachment?
    }

    /// Why a session could not be taken.
    enum ClaimRefusal: Error {
        /// The client id belongs to a session (connected or kept) of another user, and
        /// `session_owner_change` is `refuse`.
        case ownedByAnotherUser
        /// `max_sessions` sessions exist already and this CONNECT would make one more.
        case sessionLimitReached
    }

    /// Finds or creates the session for a CONNECT and attaches the connection to it, taking it
    /// from any connection that holds it (MQTT §3.1.4 session takeover), all under the registry
    /// lock: a connection that lets go of a session at the same moment either ends it before
    /// (and this CONNECT gets a new one) or finds it taken (and leaves it alone).
    ///
    /// A session is resumed only when the client asks (clean start 0), the session outlives its
    /// connections (expiry above 0: a clean-session client's state ends with its connection, even
    /// when taken over while connected) and it belongs to the same user.
    func claimSession(_ request: SessionRequest, now: UInt64) -> Result<SessionClaim, ClaimRefusal> {
        let username: String?
        if case .client(let name, _, _) = request.principal.kind { username = name } else { username = nil }
        let authorizer = accessControl.authorizer
        var ended: Session?
        let result: Result<SessionClaim, ClaimRefusal> = sessions.withLock { sessions in
            let existing = sessions[request.clientIdentifier]
            var resumable = false
            var displaced: Session.Attachment?
            if let existing {
                let (owner, expiry, attachment) = existing.core.withLock {
                    ($0.owner, $0.expiryInterval, $0.attachment)
                }
                displaced = attachment
                let sameOwner = owner.admits(username)
                if !sameOwner && config.sessionOwnerChange == .refuse {
                    return .failure(.ownedByAnotherUser)
                }
                resumable = sameOwner && !request.cleanStart && expiry > 0
            } else if config.maxSessions > 0, sessions.count >= config.maxSessions {
                return .failure(.sessionLimitReached)
            }
            let session: Session
            if resumable, let existing {
                session = existing
            } else {
                ended = existing
                session = makeSession(request.clientIdentifier)
                sessions[request.clientIdentifier] = session
            }
            var generation: UInt64 = 0
            session.perform { core in
                core.generation += 1
                generation = core.generation
                var attachment = request.attachment
                attachment.generation = generation
                core.attachment = attachment
                core.pending.removeAll()
                core.flushScheduled = false
                core.expiryInterval = request.expiry
                core.disconnectedAt = nil
                core.delayedWill = nil
                core.owner = .user(username)
                core.principal = request.principal
                if let store = session.store, request.expiry > 0 {
                    store.saveSession(
                        clientIdentifier: request.clientIdentifier, expiryInterval: request.expiry,
                        disconnectedAt: nil, owner: username)
                    core.persisted = true
                }
                // What was queued for this client id under another identity, or before an ACL
                // reload, is checked against what this client may read before anything is sent.
                var actions: [SessionState.Action] = []
                if !authorizer.readsUnrestricted(by: request.principal) {
                    actions += core.state.purge(
                        where: { authorizer.checkRead($0.message.topic, by: request.principal) != nil }, now: now)
                }
                actions += core.state.attach(
                    version: attachment.version,
                    receiveMaximum: request.receiveMaximum,
                    maximumPacketSize: attachment.maximumPacketSize,
                    now: now
                )
                return actions
            }
            return .success(
                SessionClaim(session: session, sessionPresent: resumable, generation: generation, displaced: displaced))
        }
        if let ended { end(ended) }
        return result
    }

    func makeSession(_ clientIdentifier: String) -> Session {
        Session(
            clientIdentifier: clientIdentifier,
            maxInflight: config.maxInflightMessages,
            maxQueued: config.maxQueuedMessages,
            maxQueuedBytes: config.maxQueuedBytes,
            shared: sessionShared
        )
    }

    /// A connection let go of `session` (generation `generation`). Applies the session
    /// expiry: 0 ends the session now; otherwise it waits for the sweeper. Decided under the
    /// registry lock, so that no CONNECT can resume a session this call is ending.
    func release(_ session: Session, generation: UInt64, will: Message?, willDelay: UInt32) {
        let now = clock.now()
        var publishWillNow: Message?
        let endNow: Bool = sessions.withLock { sessions in
            let expired: Bool = session.core.withLock { core in
                guard !core.ended, core.attachment?.generation == generation else {
                    // A newer connection took the session, or it ended; only this connection's
                    // will remains.
                    publishWillNow = willDelay == 0 ? will : nil
                    return false
                }
                core.attachment = nil
                core.pending.removeAll()
                core.flushScheduled = false
                core.state.detach()
                core.disconnectedAt = Int64(now)
                if let store, core.isPersistent {
                    store.saveSession(
                        clientIdentifier: session.clientIdentifier,
                        expiryInterval: core.expiryInterval,
                        disconnectedAt: wallClock.millisecondsSinceEpoch(),
                        owner: core.owner.username
                    )
                    core.persisted = true
                }
                if let will {
                    if willDelay == 0 || core.expiryInterval == 0 {
                        publishWillNow = will
                    } else {
                        let delay = UInt64(min(willDelay, core.expiryInterval)) * 1_000_000_000
                        core.delayedWill = DelayedWill(will: will, due: now + delay)
                    }
                }
                if core.expiryInterval == 0 { core.ended = true }
                return core.expiryInterval == 0
            }
            if expired, sessions[session.clientIdentifier] === session {
                sessions.removeValue(forKey: session.clientIdentifier)
            }
            return expired
        }
        if let publishWillNow { publishWill(publishWillNow) }
        if endNow { end(session) }
    }

    /// Discards a session: its subscriptions leave the router, late deliveries are ignored, and
    /// a will still waiting for its delay is published (the session ended first).
    func end(_ session: Session) {
        let (subscriptions, will, waiters): ([SessionSubscription], Message?, [@Sendable (DurableOutcome) -> Void]) =
            session.core.withLock { core in
                core.ended = true
                let will = core.delayedWill?.will
                core.delayedWill = nil
                if core.persisted {
                    store?.deleteSession(clientIdentifier: session.clientIdentifier)
                    core.persisted = false
                }
                // Nothing of the session is needed any more; a connection still holding it until
                // its channel closes must not keep its queue alive.
                core.state.discardMessages()
                core.pending.removeAll()
                let waiters = core.inboundWaiters.values.flatMap { $0 }
                core.inboundWaiters.removeAll()
                return (Array(core.subscriptions.values), will, waiters)
            }
        router.unsubscribeAll(session, subscriptions: subscriptions)
        for waiter in waiters { waiter(.failed("the session ended")) }
        if let will { publishWill(will) }
    }

    /// Checks every queued and in-flight message of every session against the access rules in
    /// force, after they changed (a reload of the ACL): what a client may no longer read is
    /// dropped and counted, and never delivered.
    func purgeUnreadableMessages() {
        let authorizer = accessControl.authorizer
        let now = clock.now()
        let all = sessions.withLock { Array($0.values) }
        for session in all {
            session.perform { core in
                guard !authorizer.readsUnrestricted(by: core.principal) else { return [] }
                let principal = core.principal
                return core.state.purge(
                    where: { authorizer.checkRead($0.message.topic, by: principal) != nil }, now: now)
            }
        }
    }
}

extension SessionOwner {
    /// The user name to store; `nil` for anonymous and unknown owners.
    var username: String? {
        if case .user(let name) = self { return name }
        return nil
    }
}
