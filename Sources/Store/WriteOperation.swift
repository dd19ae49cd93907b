import NIOCore
import WharfCore

/// A queue record made ready for the writer on the caller's thread: properties already encoded,
/// and only what the writer binds kept (the decoded properties stay behind).
struct PreparedAppend: Sendable {
    var rule: String
    var topic: String
    var payload: ByteBuffer
    var qos: QoS
    var retain: Bool
    var properties: [UInt8]?
    var enqueuedAt: Int64
    var expiresAt: Int64?
    /// What the record counts against the byte bound.
    var size: Int

    init(_ record: NewForwardRecord) {
        rule = record.rule
        topic = record.topic
        payload = record.payload.detached()
        qos = record.qos
        retain = record.retain
        properties = BlobCodec.encode(record.properties)
        enqueuedAt = record.enqueuedAt
        expiresAt = record.expiresAt
        size =
            record.payload.readableBytes + record.topic.utf8.count + record.rule.utf8.count
            + (properties?.count ?? 0)
    }
}

/// The queue's bounds and clock, carried by each queue operation.
struct QueuePolicy: Sendable {
    var limits: ForwardQueueLimits
    var now: @Sendable () -> Int64
}

/// One change to broker state; all of them are idempotent upserts or deletes.
enum BrokerStateWrite: Sendable {
    case upsertSession(clientIdentifier: String, expiryInterval: UInt32, disconnectedAt: Int64?, owner: String?)
    case deleteSession(clientIdentifier: String)
    case insertInboundQoS2(clientIdentifier: String, packetIdentifier: UInt16)
    case deleteInboundQoS2(clientIdentifier: String, packetIdentifier: UInt16)
    case upsertSubscription(clientIdentifier: String, PersistedSubscription)
    case deleteSubscription(clientIdentifier: String, filter: String)
    case insertMessage(clientIdentifier: String, PersistedMessage, properties: [UInt8]?, identifiers: [UInt8]?)
    case updateMessage(clientIdentifier: String, id: Int64, packetIdentifier: UInt16?, phase: UInt8)
    case deleteMessage(clientIdentifier: String, id: Int64)
    case setRetained(PersistedRetained, properties: [UInt8]?)
    case deleteRetained(topic: String)
}

/// Work for the writer thread. Operations run in submission order; writes of one batch share a
/// transaction, and every result is delivered only after that transaction committed.
enum WriteOperation: Sendable {
    typealias Completion<Value> = @Sendable (Result<Value, StoreError>) -> Void

    case append(PreparedAppend, OverflowPolicy, QueuePolicy, Completion<Int64>)
    case read(after: Int64, limit: Int, QueuePolicy, Completion<[ForwardRecord]>)
    case remove([Int64], Completion<Void>)
    case deadLetter([DeadLetterMove], DeadLetterLimits, Completion<Void>)
    case listDeadLetters(limit: Int, Completion<[DeadLetterRecord]>)
    case clearDeadLetters(Completion<Int>)
    case purgeExpired(QueuePolicy, Completion<Int>)
    case broker(BrokerStateWrite, Completion<Void>?)
    case loadBrokerState(Completion<BrokerSnapshot>)
    case flush(@Sendable () -> Void)

    /// What the operation holds in memory until it is committed: its data plus a fixed overhead.
    var pendingCost: Int {
        switch self {
        case .append(let record, _, _, _):
            return 64 + record.size
        case .broker(.insertMessage(_, let message, let properties, _), _):
            return 64 + message.payload.readableBytes + message.topic.utf8.count + (properties?.count ?? 0)
        case .broker(.setRetained(let retained, let properties), _):
            return 64 + retained.payload.readableBytes + retained.topic.utf8.count + (properties?.count ?? 0)
        default:
            return 64
        }
    }

    /// Whether the operation brings new data, and so may be refused while the writer is behind.
    /// Deletes and updates never are: refusing them would leave stale rows behind.
    var bringsNewData: Bool {
        switch self {
        case .append, .broker(.insertMessage, _), .broker(.setRetained, _): true
        default: false
        }
    }

    /// Tells the submitter the operation will not run (the store is closed).
    func reject(_ error: StoreError) {
        switch self {
        case .append(_, _, _, let completion): completion(.failure(error))
        case .read(_, _, _, let completion): completion(.failure(error))
        case .remove(_, let completion): completion(.failure(error))
        case .deadLetter(_, _, let completion): completion(.failure(error))
        case .listDeadLetters(_, let completion): completion(.failure(error))
        case .clearDeadLetters(let completion): completion(.failure(error))
        case .purgeExpired(_, let completion): completion(.failure(error))
        case .broker(_, let completion): completion?(.failure(error))
        case .loadBrokerState(let completion): completion(.failure(error))
        case .flush(let completion): completion()
        }
    }
}

/// A result waiting for its transaction to commit. An enum rather than a closure so that
/// delivering costs no allocation per operation.
enum Delivery {
    case nothing
    case sequence(WriteOperation.Completion<Int64>, Result<Int64, StoreError>)
    case records(WriteOperation.Completion<[ForwardRecord]>, Result<[ForwardRecord], StoreError>)
    case deadLetters(WriteOperation.Completion<[DeadLetterRecord]>, Result<[DeadLetterRecord], StoreError>)
    case done(WriteOperation.Completion<Void>, Result<Void, StoreError>)
    case count(WriteOperation.Completion<Int>, Result<Int, StoreError>)
    case snapshot(WriteOperation.Completion<BrokerSnapshot>, Result<BrokerSnapshot, StoreError>)
    case flushed(@Sendable () -> Void)

    /// Hands the result to its completion.
    func deliver() {
        switch self {
        case .nothing: return
        case .sequence(let completion, let result): completion(result)
        case .records(let completion, let result): completion(result)
        case .deadLetters(let completion, let result): completion(result)
        case .done(let completion, let result): completion(result)
        case .count(let completion, let result): completion(result)
        case .snapshot(let completion, let result): completion(result)
        case .flushed(let completion): completion()
        }
    }
}
