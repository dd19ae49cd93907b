import Broker
import MQTTCodec
import Store
import WharfCore

/// The broker's session persistence on the SQLite state tables.
struct StoreSessionStore: SessionStore {
    let state: BrokerStateStore
    let wallClock: any WallClock

    func saveSession(clientIdentifier: String, expiryInterval: UInt32, disconnectedAt: Int64?, owner: String?) {
        state.upsertSession(
            clientIdentifier: clientIdentifier, expiryInterval: expiryInterval, disconnectedAt: disconnectedAt,
            owner: owner)
    }

    func deleteSession(clientIdentifier: String) {
        state.deleteSession(clientIdentifier: clientIdentifier)
    }

    func saveInboundQoS2(
        clientIdentifier: String,
        packetIdentifier: UInt16,
        completion: @escaping @Sendable (DurableOutcome) -> Void
    ) {
        state.insertInboundQoS2(clientIdentifier: clientIdentifier, packetIdentifier: packetIdentifier) { result in
            completion(Self.outcome(result))
        }
    }

    func deleteInboundQoS2(clientIdentifier: String, packetIdentifier: UInt16) {
        state.deleteInboundQoS2(clientIdentifier: clientIdentifier, packetIdentifier: packetIdentifier)
    }

    func saveSubscription(clientIdentifier: String, _ subscription: StoredSubscription) {
        state.upsertSubscription(
            clientIdentifier: clientIdentifier,
            PersistedSubscription(
                filter: subscription.filter,
                qos: subscription.options.qos,
                noLocal: subscription.options.noLocal,
                retainAsPublished: subscription.options.retainAsPublished,
                retainHandling: subscription.options.retainHandling,
                identifier: subscription.identifier
            )
        )
    }

    func deleteSubscription(clientIdentifier: String, filter: String) {
        state.deleteSubscription(clientIdentifier: clientIdentifier, filter: filter)
    }

    func saveMessage(
        clientIdentifier: String,
        _ message: StoredMessage,
        completion: (@Sendable (DurableOutcome) -> Void)?
    ) -> Int64 {
        let record = PersistedMessage(
            topic: message.message.topic,
            payload: message.message.payload,
            qos: message.qos,
            retain: message.retain,
            properties: message.message.properties,
            receivedAt: message.receivedAtWall,
            subscriptionIdentifiers: message.subscriptionIdentifiers
        )
        guard let completion else {
            return state.insertMessage(clientIdentifier: clientIdentifier, record)
        }
        return state.insertMessage(clientIdentifier: clientIdentifier, record) { result in
            completion(Self.outcome(result.map { _ in () }))
        }
    }

    func markReleased(clientIdentifier: String, id: Int64, packetIdentifier: UInt16) {
        state.updateMessage(clientIdentifier: clientIdentifier, id: id, packetIdentifier: packetIdentifier, phase: 2)
    }

    func markSent(clientIdentifier: String, id: Int64, packetIdentifier: UInt16) {
        state.updateMessage(clientIdentifier: clientIdentifier, id: id, packetIdentifier: packetIdentifier, phase: 1)
    }

    func deleteMessage(clientIdentifier: String, id: Int64) {
        state.deleteMessage(clientIdentifier: clientIdentifier, id: id)
    }

    func saveRetained(_ message: Message, completion: (@Sendable (DurableOutcome) -> Void)?) {
        let record = PersistedRetained(
            topic: message.topic,
            payload: message.payload,
            qos: message.qos,
            properties: message.properties,
            receivedAt: wallClock.millisecondsSinceEpoch()
        )
        guard let completion else {
            state.setRetained(record)
            return
        }
        state.setRetained(record) { result in completion(Self.outcome(result)) }
    }

    static func outcome(_ result: Result<Void, StoreError>) -> DurableOutcome {
        switch result {
        case .success: .stored
        case .failure(let error): .failed(error.description)
        }
    }

    /// Converts what the store loaded into what the broker restores.
    static func restored(
        _ loaded: (sessions: [PersistedSession], retained: [PersistedRetained])
    ) -> (sessions: [RestoredSession], retained: [Message]) {
        let sessions = loaded.sessions.map { session in
            RestoredSession(
                clientIdentifier: session.clientIdentifier,
                expiryInterval: session.expiryInterval,
                disconnectedAt: session.disconnectedAt,
                owner: session.owner,
                subscriptions: session.subscriptions.map { subscription in
                    StoredSubscription(
                        filter: subscription.filter,
                        options: SubscriptionOptions(
                            qos: subscription.qos,
                            noLocal: subscription.noLocal,
                            retainAsPublished: subscription.retainAsPublished,
                            retainHandling: subscription.retainHandling
                        ),
                        identifier: subscription.identifier
                    )
                },
                messages: session.messages.map { stored in
                    StoredMessage(
                        id: stored.id,
                        message: Message(
                            topic: stored.topic,
                            payload: stored.payload,
                            qos: stored.qos,
                            retain: stored.retain,
                            properties: stored.properties,
                            principal: .restored
                        ),
                        qos: stored.qos,
                        retain: stored.retain,
                        subscriptionIdentifiers: stored.subscriptionIdentifiers,
                        receivedAtWall: stored.receivedAt,
                        releasedPacketIdentifier: stored.phase == 2 ? stored.packetIdentifier : nil,
                        sentPacketIdentifier: stored.phase == 1 && stored.qos == .exactlyOnce
                            ? stored.packetIdentifier : nil
                    )
                },
                inboundQoS2: session.inboundQoS2
            )
        }
        let retained = loaded.retained.map { stored in
            Message(
                topic: stored.topic, payload: stored.payload, qos: stored.qos, retain: true,
                properties: stored.properties, principal: .restored)
        }
        return (sessions, retained)
    }
}
