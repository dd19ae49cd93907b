/// The store's schema as an ordered list of migrations; `PRAGMA user_version` records the last one applied.
enum StoreSchema {
    /// One step from `version - 1` to `version`; its statements run in one transaction.
    struct Migration: Sendable {
        var version: Int
        var statements: [String]
    }

    /// Every migration in order. Append new steps; never edit a released one.
    static let migrations: [Migration] = [
        Migration(
            version: 1,
            statements: [
                """
                CREATE TABLE forward_queue (
                    seq INTEGER PRIMARY KEY,
                    rule TEXT NOT NULL,
                    topic TEXT NOT NULL,
                    payload BLOB NOT NULL,
                    qos INTEGER NOT NULL,
                    retain INTEGER NOT NULL,
                    properties BLOB,
                    enqueued_at INTEGER NOT NULL,
                    expires_at INTEGER,
                    size INTEGER NOT NULL
                )
                """,
                // Partial: only rows with an MQTT message expiry pay for the index.
                "CREATE INDEX forward_queue_expiry ON forward_queue(expires_at) WHERE expires_at IS NOT NULL",
                "CREATE TABLE store_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
            ]
        ),
        Migration(
            version: 2,
            statements: [
                """
                CREATE TABLE broker_sessions (
                    client_id TEXT PRIMARY KEY,
                    expiry_interval INTEGER NOT NULL,
                    disconnected_at INTEGER
                ) WITHOUT ROWID
                """,
                """
                CREATE TABLE broker_subscriptions (
                    client_id TEXT NOT NULL,
                    filter TEXT NOT NULL,
                    qos INTEGER NOT NULL,
                    no_local INTEGER NOT NULL,
                    retain_as_published INTEGER NOT NULL,
                    retain_handling INTEGER NOT NULL,
                    identifier INTEGER,
                    PRIMARY KEY (client_id, filter)
                ) WITHOUT ROWID
                """,
                """
                CREATE TABLE broker_messages (
                    id INTEGER PRIMARY KEY,
                    client_id TEXT NOT NULL,
                    topic TEXT NOT NULL,
                    payload BLOB NOT NULL,
                    qos INTEGER NOT NULL,
                    retain INTEGER NOT NULL,
                    properties BLOB,
                    received_at INTEGER NOT NULL,
                    packet_id INTEGER,
                    phase INTEGER NOT NULL,
                    subscription_ids BLOB
                )
                """,
                "CREATE INDEX broker_messages_client ON broker_messages(client_id, id)",
                """
                CREATE TABLE broker_retained (
                    topic TEXT PRIMARY KEY,
                    payload BLOB NOT NULL,
                    qos INTEGER NOT NULL,
                    properties BLOB,
                    received_at INTEGER NOT NULL
                )
                """,
            ]
        ),
        Migration(
            version: 3,
            statements: [
                // Who owns a persistent session: the user name it was created under (NULL for an
                // anonymous client). Sessions kept by version 2 have no known owner.
                "ALTER TABLE broker_sessions ADD COLUMN owner TEXT",
                "ALTER TABLE broker_sessions ADD COLUMN owner_known INTEGER NOT NULL DEFAULT 0",
                // Inbound QoS 2 packet identifiers awaiting PUBREL: a resend after a restart is
                // then acknowledged, not routed a second time.
                """
                CREATE TABLE broker_inbound_qos2 (
                    client_id TEXT NOT NULL,
                    packet_id INTEGER NOT NULL,
                    PRIMARY KEY (client_id, packet_id)
                ) WITHOUT ROWID
                """,
            ]
        ),
        Migration(
            version: 4,
            statements: [
                // Records the cloud refused for good (a permanent PUBACK reason code), moved out of
                // forward_queue in the same transaction that deletes them there; bounded by rows and bytes.
                """
                CREATE TABLE dead_letters (
                    id INTEGER PRIMARY KEY,
                    seq INTEGER NOT NULL,
                    rule TEXT NOT NULL,
                    topic TEXT NOT NULL,
                    payload BLOB NOT NULL,
                    qos INTEGER NOT NULL,
                    retain INTEGER NOT NULL,
                    properties BLOB,
                    enqueued_at INTEGER NOT NULL,
                    reason_code INTEGER NOT NULL,
                    reason_string TEXT,
                    refused_at INTEGER NOT NULL,
                    size INTEGER NOT NULL
                )
                """
            ]
        ),
    ]

    /// The version a fully migrated database has.
    static var currentVersion: Int { migrations.last?.version ?? 0 }
}
