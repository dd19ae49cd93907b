import AdminAPI
import Logging
import MQTTCodec
import NIOCore
import Store
import WharfCore
import WharfGateway

/// The forward queue's dead-letter table as the admin API reads and clears it.
extension DaemonRuntime {
    func deadLetters(limit: Int) async throws(DeadLetterAccessError) -> DeadLetterReport {
        guard let queue = gateway.forwardQueue else { throw .noQueue }
        let records: [DeadLetterRecord]
        do {
            records = try await queue.deadLetters(limit: limit)
        } catch {
            throw .storeFailed(error.description)
        }
        // Read after the listing: the writer updated the totals by the time it answered.
        let statistics = queue.statistics
        return DeadLetterReport(
            count: statistics.deadLetters, bytes: statistics.deadLetterBytes, deadLetters: records.map(Self.entry))
    }

    func clearDeadLetters() async throws(DeadLetterAccessError) -> Int {
        guard let queue = gateway.forwardQueue else { throw .noQueue }
        let cleared: Int
        do {
            cleared = try await queue.clearDeadLetters()
        } catch {
            throw .storeFailed(error.description)
        }
        // Deleting records is worth a line in the log: they are gone for good.
        Logger(label: "wharf.admin").notice(
            "dead letters cleared through the admin API", metadata: ["queue.dead_letters_cleared": "\(cleared)"])
        return cleared
    }

    static func entry(_ record: DeadLetterRecord) -> DeadLetterEntry {
        DeadLetterEntry(
            id: record.id,
            sequence: record.sequence,
            topic: record.topic,
            reasonCode: record.reasonCode,
            reason: ReasonCode.name(of: record.reasonCode),
            reasonString: record.reasonString,
            rule: record.rule,
            qos: Int(record.qos.rawValue),
            retain: record.retain,
            payload: Array(record.payload.readableBytesView),
            enqueuedAtMilliseconds: record.enqueuedAt,
            deadAtMilliseconds: record.refusedAt
        )
    }
}
