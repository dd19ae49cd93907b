/// Persistence of broker sessions (subscriptions, queued QoS 1/2 messages) and retained messages.
///
/// Writes share the writer thread and group commit with the forward queue. Each takes an optional
/// `completion` that runs on the writer thread once the write is durable; without one it is
/// fire-and-forget (failures are still counted and logged). Writes apply in call order.
public final class BrokerStateStore: Sendable {
    /// A completion for writes that return nothing.
    public typealias Completion = @Sendable (Result<Void, StoreError>) -> Void

    /// The database the state lives in.
    public let database: StoreDatabase

    /// Creates the store over `database`.
    public init(database: StoreDatabase) {
        self.database = database
    }

    /// Every persisted session (subscriptions and messages in order) and retained message.
    public func loadAll() async throws(StoreError) -> (sessions: [PersistedSession], retained: [PersistedRetained]) {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<BrokerSnapshot, StoreError>, Never>) in
            database.writer.submit(.loadBrokerState { continuation.resume(returning: $0) })
        }
        let snapshot = try result.get()
        return (snapshot.sessions, snapshot.retained)
    }

    /// Creates or updates a session owned by the user `owner` (`nil`: an anonymous client).
    public func upsertSession(
        clientIdentifier: String,
        expiryInterval: UInt32,
        disconnectedAt: Int64?,
        owner: String?,
        completion: Completion? = nil
    ) {
        submit(
            .upsertSession(
                clientIdentifier: clientIdentifier,
                expiryInterval: expiryInterval,
                disconnectedAt: disconnectedAt,
                owner: owner
            ),
            completion
        )
    }

    /// Records an inbound QoS 2 packet identifier that got (or is about to get) PUBREC.
    public func insertInboundQoS2(clientIdentifier: String, packetIdentifier: UInt16, completion: Completion? = nil) {
        submit(.insertInboundQoS2(clientIdentifier: clientIdentifier, packetIdentifier: packetIdentifier), completion)
    }

    /// Forgets an inbound QoS 2 packet identifier (PUBREL arrived, or the message was refused).
    public func deleteInboundQoS2(clientIdentifier: String, packetIdentifier: UInt16, completion: Completion? = nil) {
        submit(.deleteInboundQoS2(clientIdentifier: clientIdentifier, packetIdentifier: packetIdentifier), completion)
    }

    /// Deletes a session with its subscriptions and messages.
    public func deleteSession(clientIdentifier: String, completion: Completion? = nil) {
        submit(.deleteSession(clientIdentifier: clientIdentifier), completion)
    }

    /// Creates or replaces the session's subscription with the same filter.
    public func upsertSubscription(
        clientIdentifier: String,
        _ subscription: PersistedSubscription,
        completion: Completion? = nil
    ) {
        submit(.upsertSubscription(clientIdentifier: clientIdentifier, subscription), completion)
    }

    /// Deletes the session's subscription to `filter`.
    public func deleteSubscription(clientIdentifier: String, filter: String, completion: Completion? = nil) {
        submit(.deleteSubscription(clientIdentifier: clientIdentifier, filter: filter), completion)
    }

    /// Queues a message for the session and returns its id at once (ids increase in call order);
    /// `completion` gets the same id when the message is durable. `message.id` is ignored.
    @discardableResult
    public func insertMessage(
        clientIdentifier: String,
        _ message: PersistedMessage,
        completion: (@Sendable (Result<Int64, StoreError>) -> Void)? = nil
    ) -> Int64 {
        let properties = BlobCodec.encode(message.properties)
        let identifiers = BlobCodec.encode(subscriptionIdentifiers: message.subscriptionIdentifiers)
        var message = message
        message.payload = message.payload.detached()
        return database.writer.submitMessage { id in
            var message = message
            message.id = id
            let write = BrokerStateWrite.insertMessage(
                clientIdentifier: clientIdentifier,
                message,
                properties: properties,
                identifiers: identifiers
            )
            guard let completion else { return .broker(write, nil) }
            return .broker(write) { result in completion(result.map { id }) }
        }
    }

    /// Records a message's packet identifier and delivery phase.
    public func updateMessage(
        clientIdentifier: String,
        id: Int64,
        packetIdentifier: UInt16?,
        phase: UInt8,
        completion: Completion? = nil
    ) {
        submit(
            .updateMessage(
                clientIdentifier: clientIdentifier, id: id, packetIdentifier: packetIdentifier, phase: phase),
            completion
        )
    }

    /// Deletes a delivered message.
    public func deleteMessage(clientIdentifier: String, id: Int64, completion: Completion? = nil) {
        submit(.deleteMessage(clientIdentifier: clientIdentifier, id: id), completion)
    }

    /// Stores a retained message; an empty payload deletes the topic's retained message, as in MQTT.
    public func setRetained(_ retained: PersistedRetained, completion: Completion? = nil) {
        var retained = retained
        retained.payload = retained.payload.detached()
        submit(.setRetained(retained, properties: BlobCodec.encode(retained.properties)), completion)
    }

    /// Deletes the retained message on `topic`.
    public func deleteRetained(topic: String, completion: Completion? = nil) {
        submit(.deleteRetained(topic: topic), completion)
    }

    /// Returns once everything submitted so far is durable.
    public func flush() async {
        await database.flush()
    }

    private func submit(_ write: BrokerStateWrite, _ completion: Completion?) {
        database.writer.submit(.broker(write, completion))
    }
}
