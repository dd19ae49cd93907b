/// Every statement the store runs more than once; each is prepared once per connection and cached.
enum StatementKey: Int, CaseIterable {
    case begin, commit, rollback
    case metaUpsert
    case queueInsert, queueInsertGroup, queueSelectAfter, queueHead, queueDeleteOne, queueDeleteThrough,
        queueDeleteExpired
    case queueOldest
    case deadLetterMove, deadLetterHead, deadLetterDeleteThrough, deadLetterSelect, deadLetterClear
    case savepoint, savepointRelease, savepointRollback
    case sessionUpsert, sessionDelete, sessionDeleteSubscriptions, sessionDeleteMessages, sessionDeleteInbound
    case inboundInsert, inboundDelete, inboundSelect
    case subscriptionUpsert, subscriptionDelete
    case messageInsert, messageUpdate, messageDelete
    case retainedUpsert, retainedDelete
    case sessionsSelect, subscriptionsSelect, messagesSelect, retainedSelect

    var sql: String {
        switch self {
        case .begin: "BEGIN IMMEDIATE"
        case .commit: "COMMIT"
        case .rollback: "ROLLBACK"
        case .metaUpsert:
            "INSERT INTO store_meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
        case .queueInsert: StoreSQLite.queueInsertSQL
        case .queueInsertGroup: StoreSQLite.queueInsertGroupSQL
        case .queueSelectAfter:
            """
            SELECT seq, rule, topic, payload, qos, retain, properties, enqueued_at, expires_at, size
            FROM forward_queue WHERE seq > ?1 ORDER BY seq LIMIT ?2
            """
        case .queueHead: "SELECT seq, size, enqueued_at FROM forward_queue ORDER BY seq"
        case .queueDeleteOne: "DELETE FROM forward_queue WHERE seq = ?1 RETURNING size"
        case .queueDeleteThrough: "DELETE FROM forward_queue WHERE seq <= ?1 RETURNING size"
        case .queueDeleteExpired: "DELETE FROM forward_queue WHERE expires_at <= ?1 RETURNING size"
        case .queueOldest: "SELECT enqueued_at FROM forward_queue ORDER BY seq LIMIT 1"
        case .deadLetterMove:
            """
            INSERT INTO dead_letters(seq, rule, topic, payload, qos, retain, properties, enqueued_at, reason_code,
                reason_string, refused_at, size)
            SELECT seq, rule, topic, payload, qos, retain, properties, enqueued_at, ?2, ?3, ?4, size
            FROM forward_queue WHERE seq = ?1 RETURNING size
            """
        case .deadLetterHead: "SELECT id, size FROM dead_letters ORDER BY id"
        case .deadLetterDeleteThrough: "DELETE FROM dead_letters WHERE id <= ?1 RETURNING size"
        case .deadLetterSelect:
            """
            SELECT id, seq, rule, topic, payload, qos, retain, properties, enqueued_at, reason_code, reason_string,
                refused_at FROM dead_letters ORDER BY id DESC LIMIT ?1
            """
        case .deadLetterClear: "DELETE FROM dead_letters RETURNING size"
        case .savepoint: "SAVEPOINT dead_letter"
        case .savepointRelease: "RELEASE dead_letter"
        case .savepointRollback: "ROLLBACK TO dead_letter"
        case .sessionUpsert:
            """
            INSERT INTO broker_sessions(client_id, expiry_interval, disconnected_at, owner, owner_known)
            VALUES (?1, ?2, ?3, ?4, 1)
            ON CONFLICT(client_id) DO UPDATE SET
                expiry_interval = excluded.expiry_interval, disconnected_at = excluded.disconnected_at,
                owner = excluded.owner, owner_known = 1
            """
        case .sessionDelete: "DELETE FROM broker_sessions WHERE client_id = ?1"
        case .sessionDeleteSubscriptions: "DELETE FROM broker_subscriptions WHERE client_id = ?1"
        case .sessionDeleteMessages: "DELETE FROM broker_messages WHERE client_id = ?1"
        case .sessionDeleteInbound: "DELETE FROM broker_inbound_qos2 WHERE client_id = ?1"
        case .inboundInsert: "INSERT OR IGNORE INTO broker_inbound_qos2(client_id, packet_id) VALUES (?1, ?2)"
        case .inboundDelete: "DELETE FROM broker_inbound_qos2 WHERE client_id = ?1 AND packet_id = ?2"
        case .inboundSelect: "SELECT client_id, packet_id FROM broker_inbound_qos2 ORDER BY client_id, packet_id"
        case .subscriptionUpsert:
            """
            INSERT INTO broker_subscriptions(client_id, filter, qos, no_local, retain_as_published, retain_handling,
                identifier) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
            ON CONFLICT(client_id, filter) DO UPDATE SET
                qos = excluded.qos, no_local = excluded.no_local, retain_as_published = excluded.retain_as_published,
                retain_handling = excluded.retain_handling, identifier = excluded.identifier
            """
        case .subscriptionDelete: "DELETE FROM broker_subscriptions WHERE client_id = ?1 AND filter = ?2"
        case .messageInsert:
            """
            INSERT OR REPLACE INTO broker_messages(id, client_id, topic, payload, qos, retain, properties, received_at,
                packet_id, phase, subscription_ids) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
            """
        case .messageUpdate:
            "UPDATE broker_messages SET packet_id = ?3, phase = ?4 WHERE id = ?1 AND client_id = ?2"
        case .messageDelete: "DELETE FROM broker_messages WHERE id = ?1 AND client_id = ?2"
        case .retainedUpsert:
            """
            INSERT INTO broker_retained(topic, payload, qos, properties, received_at) VALUES (?1, ?2, ?3, ?4, ?5)
            ON CONFLICT(topic) DO UPDATE SET
                payload = excluded.payload, qos = excluded.qos, properties = excluded.properties,
                received_at = excluded.received_at
            """
        case .retainedDelete: "DELETE FROM broker_retained WHERE topic = ?1"
        case .sessionsSelect:
            """
            SELECT client_id, expiry_interval, disconnected_at, owner, owner_known FROM broker_sessions
            ORDER BY client_id
            """
        case .subscriptionsSelect:
            """
            SELECT client_id, filter, qos, no_local, retain_as_published, retain_handling, identifier
            FROM broker_subscriptions ORDER BY client_id, filter
            """
        case .messagesSelect:
            """
            SELECT id, client_id, topic, payload, qos, retain, properties, received_at, packet_id, phase,
                subscription_ids FROM broker_messages ORDER BY id
            """
        case .retainedSelect:
            "SELECT topic, payload, qos, properties, received_at FROM broker_retained ORDER BY topic"
        }
    }
}
