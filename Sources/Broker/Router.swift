import MQTTCodec
import Synchronization
import WharfAuth
import WharfCore

/// The broker's routing core: a topic trie from filters to subscribers (sessions and
/// in-process handlers), shared-subscription groups, and retained messages. One routing path
/// serves devices, adapters and the uplink.
///
/// It is also the one place where access is decided: every message is checked against its
/// publisher's principal before anything is routed or retained, every subscription against its
/// subscriber's, and every delivery against the receiver's (``Authorizer``).
final class Router: Sendable {
    private struct State: Sendable {
        var trie = TopicTrie<SubscriberKey, SubscriberEntry>()
        var shared = TopicTrie<SubscriberKey, SubscriberEntry>()
        /// Round-robin position per `group\0filter`.
        var sharedCursor: [String: Int] = [:]
        var nextLocalIdentifier: UInt64 = 1
    }

    private let state = Mutex(State())
    let retained: RetainedStore
    let statistics: BrokerStatistics
    let clock: any WharfClock
    /// Where retained messages are persisted, if anywhere.
    let store: (any SessionStore)?
    /// The ACL every delivery to a session is checked against.
    let accessControl: AccessControlState

    init(
        statistics: BrokerStatistics,
        clock: any WharfClock,
        store: (any SessionStore)? = nil,
        accessControl: AccessControlState = AccessControlState(AccessControl(allowAnonymous: true)),
        retained: RetainedStore = RetainedStore()
    ) {
        self.retained = retained
        self.statistics = statistics
        self.clock = clock
        self.store = store
        self.accessControl = accessControl
    }

    // MARK: Subscriptions

    /// Adds or replaces a session's subscription; returns whether it existed before.
    @discardableResult
    func subscribe(_ session: Session, _ subscription: SessionSubscription) -> Bool {
        state.withLock { state in
            if let group = subscription.shareGroup {
                let key = SubscriberKey.shared(group: group, clientIdentifier: session.clientIdentifier)
                return state.shared.insert(
                    filter: subscription.filter,
                    key: key,
                    value: .session(session, subscription)
                ) != nil
            }
            return state.trie.insert(
                filter: subscription.filter,
                key: .session(session.clientIdentifier),
                value: .session(session, subscription)
            ) != nil
        }
    }

    /// Removes a session's subscription; returns whether it existed.
    @discardableResult
    func unsubscribe(_ session: Session, filter: String, shareGroup: String?) -> Bool {
        state.withLock { state in
            if let shareGroup {
                let key = SubscriberKey.shared(group: shareGroup, clientIdentifier: session.clientIdentifier)
                return state.shared.remove(filter: filter, key: key) != nil
            }
            return state.trie.remove(filter: filter, key: .session(session.clientIdentifier)) != nil
        }
    }

    /// Removes every subscription of `session` (the session ended).
    func unsubscribeAll(_ session: Session, subscriptions: [SessionSubscription]) {
        state.withLock { state in
            for subscription in subscriptions {
                if let group = subscription.shareGroup {
                    let key = SubscriberKey.shared(group: group, clientIdentifier: session.clientIdentifier)
                    if case .session(let owner, _)? = state.shared.value(forFilter: subscription.filter, key: key),
                        owner === session
                    {
                        state.shared.remove(filter: subscription.filter, key: key)
                    }
                } else {
                    let key = SubscriberKey.session(session.clientIdentifier)
                    if case .session(let owner, _)? = state.trie.value(forFilter: subscription.filter, key: key),
                        owner === session
                    {
                        state.trie.remove(filter: subscription.filter, key: key)
                    }
                }
            }
        }
    }

    /// Adds an in-process subscriber once `principal` may subscribe to `filter`; returns its
    /// identifier for removal.
    func subscribeLocal(
        filter: String,
        qos: QoS,
        principal: Principal,
        handler: @escaping @Sendable (Message) -> Void
    ) -> Result<UInt64, Authorizer.Refusal> {
        if let refusal = accessControl.authorizer.checkSubscribe(filter, by: principal) {
            statistics.authorizationRefusals.add(1, ordering: .relaxed)
            return .failure(refusal)
        }
        return .success(
            state.withLock { state in
                let identifier = state.nextLocalIdentifier
                state.nextLocalIdentifier += 1
                let subscriber = LocalSubscriber(
                    identifier: identifier, qos: qos, principal: principal, handler: handler)
                state.trie.insert(filter: filter, key: .local(identifier), value: .local(subscriber))
                return identifier
            })
    }

    /// Why `principal` may not publish to `topic`, or `nil` (for checks ahead of a publish,
    /// such as a will at CONNECT; ``publish(_:from:whenDurable:)`` checks again).
    func checkPublish(_ topic: String, by principal: Principal) -> Authorizer.Refusal? {
        accessControl.authorizer.checkPublish(topic, by: principal)
    }

    /// Why `principal` may not subscribe to `filter`, or `nil`.
    func checkSubscribe(_ filter: String, by principal: Principal) -> Authorizer.Refusal? {
        let refusal = accessControl.authorizer.checkSubscribe(filter, by: principal)
        if refusal != nil { statistics.authorizationRefusals.add(1, ordering: .relaxed) }
        return refusal
    }

    /// The unexpired retained messages under `filter` that `principal` may read, in no
    /// particular order.
    func retainedMessages(matching filter: String, for principal: Principal, now: UInt64) -> [Message] {
        let messages = retained.matching(filter, now: now)
        let authorizer = accessControl.authorizer
        if authorizer.readsUnrestricted(by: principal) { return messages }
        return messages.filter { authorizer.checkRead($0.topic, by: principal) == nil }
    }

    /// Removes an in-process subscriber.
    func unsubscribeLocal(filter: String, identifier: UInt64) {
        state.withLock { state in
            _ = state.trie.remove(filter: filter, key: .local(identifier))
        }
    }

    /// Adds an uplink forward rule: matching messages are handed to its durable sink.
    func addDurableRoute(_ route: DurableRoute) {
        state.withLock { state in
            _ = state.trie.insert(filter: route.filter, key: .durable(route.name), value: .durable(route))
        }
    }

    /// Subscriptions in the trie (ordinary and shared), for `$SYS`.
    var subscriptionCount: Int { state.withLock { $0.trie.count + $0.shared.count } }

    // MARK: Publishing

    /// Routes `message` to every matching subscriber and updates the retained store.
    /// `publisher` is the publishing session, for the No Local option. Returns how many
    /// subscribers the message reached.
    @discardableResult
    func publish(_ message: Message, from publisher: Session? = nil) -> Int {
        publish(message, from: publisher, whenDurable: nil).matched
    }

    /// What routing did with a message.
    struct RouteResult {
        /// Sessions, in-process subscribers and durable routes the message reached.
        var matched: Int
        /// Whether `whenDurable` will be called: a forward rule took the message.
        var awaitsDurability: Bool
        /// Why the message was not routed at all: its publisher may not publish to its topic.
        var refusal: Authorizer.Refusal?
    }

    /// Routes `message` once its principal may publish to its topic; when uplink forward rules
    /// take it, `whenDurable` runs (on any thread) once every one of them has it on disk, with
    /// the worst outcome. Subscribers receive the message at once either way. `alsoAwait` adds
    /// a write of the caller's to wait for (it is given the completion to call), once the
    /// message is allowed.
    func publish(
        _ message: Message,
        from publisher: Session?,
        whenDurable: (@Sendable (DurableOutcome) -> Void)?,
        alsoAwait: ((@escaping @Sendable (DurableOutcome) -> Void) -> Void)? = nil
    ) -> RouteResult {
        let authorizer = accessControl.authorizer
        if let refusal = authorizer.checkPublish(message.topic, by: message.principal) {
            statistics.authorizationRefusals.add(1, ordering: .relaxed)
            return RouteResult(matched: 0, awaitsDurability: false, refusal: refusal)
        }
        let join = whenDurable.map(DurabilityJoin.init(completion:))
        if let alsoAwait, let join { alsoAwait(join.expectWrite()) }
        if message.retain {
            let persist = store.flatMap { store in Topic.isSystemTopic(message.topic) ? nil : store }
            let update = retained.update(with: message, exempt: message.principal == .broker) { message in
                persist?.saveRetained(message, completion: join?.expectWrite())
            }
            switch update {
            case .applied: break
            case .countLimitReached: statistics.recordLimitHit(.retainedMessages)
            case .byteLimitReached: statistics.recordLimitHit(.retainedBytes)
            }
        }
        let now = clock.now()
        var targets: [(Session, OutboundMessage)] = []
        var positions: [ObjectIdentifier: Int] = [:]
        var locals: [LocalSubscriber] = []
        var durables: [DurableRoute] = []
        state.withLock { state in
            state.trie.forEachMatch(topic: message.topic) { _, entry in
                switch entry {
                case .session(let session, let subscription):
                    if subscription.options.noLocal, session === publisher { return }
                    Router.merge(
                        message,
                        into: &targets,
                        positions: &positions,
                        session: session,
                        subscription: subscription,
                        now: now
                    )
                case .local(let local):
                    locals.append(local)
                case .durable(let route):
                    durables.append(route)
                }
            }
            if !state.shared.isEmpty {
                Router.pickShared(message, state: &state, into: &targets, now: now)
            }
        }
        var delivered = 0
        if authorizer.acl != nil {
            for (session, outbound) in targets where authorizer.checkRead(message.topic, by: session.principal) == nil {
                session.deliver(outbound, now: now, join: join)
                delivered += 1
            }
        } else {
            for (session, outbound) in targets {
                session.deliver(outbound, now: now, join: join)
            }
            delivered = targets.count
        }
        for local in locals {
            if !authorizer.readsUnrestricted(by: local.principal),
                authorizer.checkRead(message.topic, by: local.principal) != nil
            {
                continue
            }
            var copy = message
            copy.qos = min(message.qos, local.qos)
            local.handler(copy)
            delivered += 1
        }
        if !durables.isEmpty, authorizer.acl == nil || authorizer.checkRead(message.topic, by: .uplink) == nil {
            for route in durables {
                if let join {
                    route.sink.accept(message, completion: join.expectWrite())
                } else {
                    route.sink.accept(message) { _ in }
                }
                delivered += 1
            }
        }
        return RouteResult(matched: delivered, awaitsDurability: join?.seal() ?? false)
    }

    /// Small fan-outs scan `targets`; from 16 targets on, `positions` indexes them so a large
    /// fan-out stays linear.
    private static func merge(
        _ message: Message,
        into targets: inout [(Session, OutboundMessage)],
        positions: inout [ObjectIdentifier: Int],
        session: Session,
        subscription: SessionSubscription,
        now: UInt64
    ) {
        let qos = min(message.qos, subscription.options.qos)
        let retain = subscription.options.retainAsPublished ? message.retain : false
        let existing: Int?
        if targets.count < 16 {
            existing = targets.firstIndex { $0.0 === session }
        } else {
            if positions.isEmpty {
                for (index, target) in targets.enumerated() { positions[ObjectIdentifier(target.0)] = index }
            }
            existing = positions[ObjectIdentifier(session)]
        }
        if let index = existing {
            if qos > targets[index].1.qos { targets[index].1.qos = qos }
            if retain { targets[index].1.retain = true }
            if let identifier = subscription.identifier {
                targets[index].1.subscriptionIdentifiers.append(identifier)
            }
            return
        }
        let outbound = OutboundMessage(
            message: message,
            qos: qos,
            retain: retain,
            subscriptionIdentifiers: subscription.identifier.map { [$0] } ?? [],
            enqueuedAt: now
        )
        if !positions.isEmpty { positions[ObjectIdentifier(session)] = targets.count }
        targets.append((session, outbound))
    }

    /// For each share group with a matching filter, one member receives the message: the next
    /// connected member in round-robin order, or any member when none is connected.
    private static func pickShared(
        _ message: Message,
        state: inout State,
        into targets: inout [(Session, OutboundMessage)],
        now: UInt64
    ) {
        var groups: [String: [(Session, SessionSubscription)]] = [:]
        state.shared.forEachMatch(topic: message.topic) { key, entry in
            guard case .shared(let group, _) = key, case .session(let session, let subscription) = entry else {
                return
            }
            groups["\(group)\u{0}\(subscription.filter)", default: []].append((session, subscription))
        }
        for (groupKey, var members) in groups {
            members.sort { $0.0.clientIdentifier < $1.0.clientIdentifier }
            let cursor = state.sharedCursor[groupKey, default: 0]
            var chosen = members[cursor % members.count]
            for offset in 0..<members.count {
                let candidate = members[(cursor + offset) % members.count]
                if candidate.0.core.withLock({ $0.attachment != nil }) {
                    chosen = candidate
                    break
                }
            }
            state.sharedCursor[groupKey] = cursor &+ 1
            let outbound = OutboundMessage(
                message: message,
                qos: min(message.qos, chosen.1.options.qos),
                retain: chosen.1.options.retainAsPublished ? message.retain : false,
                subscriptionIdentifiers: chosen.1.identifier.map { [$0] } ?? [],
                enqueuedAt: now
            )
            targets.append((chosen.0, outbound))
        }
    }
}
