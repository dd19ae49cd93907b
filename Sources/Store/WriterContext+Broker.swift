import Logging
import NIOCore
import WharfCore

/// Broker-state operations, run by the writer inside a batch transaction.
extension WriterContext {
    func apply(_ write: BrokerStateWrite) throws(SQLiteError) {
        switch write {
        case .upsertSession(let clientIdentifier, let expiryInterval, let disconnectedAt, let owner):
            let statement = try db.statement(.sessionUpsert)
            statement.bind(1, clientIdentifier)
            statement.bind(2, Int64(expiryInterval))
            statement.bind(3, disconnectedAt)
            statement.bind(4, owner)
            try statement.run()
        case .deleteSession(let clientIdentifier):
            let keys: [StatementKey] = [
                .sessionDeleteMessages, .sessionDeleteSubscriptions, .sessionDeleteInbound, .sessionDelete,
            ]
            for key in keys {
                let statement = try db.statement(key)
                statement.bind(1, clientIdentifier)
                try statement.run()
            }
        case .insertInboundQoS2(let clientIdentifier, let packetIdentifier):
            let statement = try db.statement(.inboundInsert)
            statement.bind(1, clientIdentifier)
            statement.bind(2, Int64(packetIdentifier))
            try statement.run()
        case .deleteInboundQoS2(let clientIdentifier, let packetIdentifier):
            let statement = try db.statement(.inboundDelete)
            statement.bind(1, clientIdentifier)
            statement.bind(2, Int64(packetIdentifier))
            try statement.run()
        case .upsertSubscription(let clientIdentifier, let subscription):
            let statement = try db.statement(.subscriptionUpsert)
            statement.bind(1, clientIdentifier)
            statement.bind(2, subscription.filter)
            statement.bind(3, Int64(subscription.qos.rawValue))
            statement.bind(4, subscription.noLocal)
            statement.bind(5, subscription.retainAsPublished)
            statement.bind(6, Int64(subscription.retainHandling))
            statement.bind(7, subscription.identifier.map { Int64($0) })
            try statement.run()
        case .deleteSubscription(let clientIdentifier, let filter):
            let statement = try db.statement(.subscriptionDelete)
            statement.bind(1, clientIdentifier)
            statement.bind(2, filter)
            try statement.run()
        case .insertMessage(let clientIdentifier, let message, let properties, let identifiers):
            let statement = try db.statement(.messageInsert)
            statement.bind(1, message.id)
            statement.bind(2, clientIdentifier)
            statement.bind(3, message.topic)
            statement.bind(5, Int64(message.qos.rawValue))
            statement.bind(6, message.retain)
            statement.bind(7, properties)
            statement.bind(8, message.receivedAt)
            statement.bind(9, message.packetIdentifier.map { Int64($0) })
            statement.bind(10, Int64(message.phase))
            statement.bind(11, identifiers)
            try statement.withBlob(4, message.payload) { () throws(SQLiteError) in try statement.run() }
        case .updateMessage(let clientIdentifier, let id, let packetIdentifier, let phase):
            let statement = try db.statement(.messageUpdate)
            statement.bind(1, id)
            statement.bind(2, clientIdentifier)
            statement.bind(3, packetIdentifier.map { Int64($0) })
            statement.bind(4, Int64(phase))
            try statement.run()
        case .deleteMessage(let clientIdentifier, let id):
            let statement = try db.statement(.messageDelete)
            statement.bind(1, id)
            statement.bind(2, clientIdentifier)
            try statement.run()
        case .setRetained(let retained, let properties):
            if retained.payload.readableBytes == 0 {
                return try apply(.deleteRetained(topic: retained.topic))
            }
            let statement = try db.statement(.retainedUpsert)
            statement.bind(1, retained.topic)
            statement.bind(3, Int64(retained.qos.rawValue))
            statement.bind(4, properties)
            statement.bind(5, retained.receivedAt)
            try statement.withBlob(2, retained.payload) { () throws(SQLiteError) in try statement.run() }
        case .deleteRetained(let topic):
            let statement = try db.statement(.retainedDelete)
            statement.bind(1, topic)
            try statement.run()
        }
    }

    /// Reads every session with its subscriptions and messages, and every retained message.
    /// Unreadable rows are skipped and logged; they never stop the broker from starting.
    func loadBrokerState() throws(SQLiteError) -> BrokerSnapshot {
        var sessions: [PersistedSession] = []
        var index: [String: Int] = [:]
        var skipped = 0

        let sessionRows = try db.statement(.sessionsSelect)
        do {
            defer { sessionRows.reset() }
            while try sessionRows.step() {
                guard let expiry = UInt32(exactly: sessionRows.int64(1)) else {
                    skipped += 1
                    continue
                }
                let clientIdentifier = sessionRows.text(0)
                index[clientIdentifier] = sessions.count
                sessions.append(
                    PersistedSession(
                        clientIdentifier: clientIdentifier,
                        expiryInterval: expiry,
                        disconnectedAt: sessionRows.optionalInt64(2),
                        owner: sessionRows.int64(4) != 0 ? .user(sessionRows.optionalText(3)) : .unknown
                    )
                )
            }
        }

        let inboundRows = try db.statement(.inboundSelect)
        do {
            defer { inboundRows.reset() }
            while try inboundRows.step() {
                guard let at = index[inboundRows.text(0)] else { continue }
                guard let packetIdentifier = UInt16(exactly: inboundRows.int64(1)), packetIdentifier > 0 else {
                    skipped += 1
                    continue
                }
                sessions[at].inboundQoS2.append(packetIdentifier)
            }
        }

        let subscriptionRows = try db.statement(.subscriptionsSelect)
        do {
            defer { subscriptionRows.reset() }
            while try subscriptionRows.step() {
                guard let at = index[subscriptionRows.text(0)] else { continue }
                guard let qos = QoS(rawValue: UInt8(clamping: subscriptionRows.int64(2))),
                    let retainHandling = UInt8(exactly: subscriptionRows.int64(5))
                else {
                    skipped += 1
                    continue
                }
                let identifier = subscriptionRows.optionalInt64(6)
                if let identifier, UInt32(exactly: identifier) == nil {
                    skipped += 1
                    continue
                }
                sessions[at].subscriptions.append(
                    PersistedSubscription(
                        filter: subscriptionRows.text(1),
                        qos: qos,
                        noLocal: subscriptionRows.int64(3) != 0,
                        retainAsPublished: subscriptionRows.int64(4) != 0,
                        retainHandling: retainHandling,
                        identifier: identifier.flatMap { UInt32(exactly: $0) }
                    )
                )
            }
        }

        let messageRows = try db.statement(.messagesSelect)
        do {
            defer { messageRows.reset() }
            while try messageRows.step() {
                guard let at = index[messageRows.text(1)] else { continue }
                guard let message = decodeMessage(messageRows) else {
                    skipped += 1
                    continue
                }
                sessions[at].messages.append(message)
            }
        }

        var retained: [PersistedRetained] = []
        let retainedRows = try db.statement(.retainedSelect)
        do {
            defer { retainedRows.reset() }
            while try retainedRows.step() {
                guard let qos = QoS(rawValue: UInt8(clamping: retainedRows.int64(2))),
                    let properties = decodeProperties(retainedRows, column: 3)
                else {
                    skipped += 1
                    continue
                }
                retained.append(
                    PersistedRetained(
                        topic: retainedRows.text(0),
                        payload: retainedRows.byteBuffer(1, allocator: allocator),
                        qos: qos,
                        properties: properties,
                        receivedAt: retainedRows.int64(4)
                    )
                )
            }
        }

        if skipped > 0 {
            logger.error(
                "Skipped \(skipped) unreadable broker state rows while loading",
                metadata: ["store.path": "\(db.path)"]
            )
        }
        return BrokerSnapshot(sessions: sessions, retained: retained)
    }

    private func decodeMessage(_ row: SQLiteStatement) -> PersistedMessage? {
        guard let qos = QoS(rawValue: UInt8(clamping: row.int64(4))),
            let properties = decodeProperties(row, column: 6),
            let phase = UInt8(exactly: row.int64(9))
        else { return nil }
        let packetIdentifier = row.optionalInt64(8)
        if let packetIdentifier, UInt16(exactly: packetIdentifier) == nil { return nil }
        let identifiers = row.withBlob(10) { raw in
            Result { () throws(BlobDecodingError) in try BlobCodec.decodeSubscriptionIdentifiers(Array(raw)) }
        }
        guard case .success(let subscriptionIdentifiers) = identifiers else { return nil }
        return PersistedMessage(
            id: row.int64(0),
            topic: row.text(2),
            payload: row.byteBuffer(3, allocator: allocator),
            qos: qos,
            retain: row.int64(5) != 0,
            properties: properties,
            receivedAt: row.int64(7),
            packetIdentifier: packetIdentifier.flatMap { UInt16(exactly: $0) },
            phase: phase,
            subscriptionIdentifiers: subscriptionIdentifiers
        )
    }

    private func decodeProperties(_ row: SQLiteStatement, column: Int32) -> MessageProperties? {
        let decoded = row.withBlob(column) { raw in
            Result { () throws(BlobDecodingError) in try BlobCodec.decodeProperties(raw) }
        }
        guard case .success(let properties) = decoded else { return nil }
        return properties
    }
}
