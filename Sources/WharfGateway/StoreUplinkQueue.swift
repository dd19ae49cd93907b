import Store
import Uplink

/// The uplink's view of the durable forward queue.
struct StoreUplinkQueue: UplinkQueue {
    let queue: ForwardQueue

    func read(after sequence: Int64, limit: Int) async throws -> [UplinkItem] {
        try await queue.read(after: sequence, limit: limit).map { record in
            UplinkItem(
                sequence: record.sequence,
                topic: record.topic,
                payload: record.payload,
                qos: record.qos,
                retain: record.retain,
                properties: record.properties,
                expiresAt: record.expiresAt
            )
        }
    }

    func acknowledge(_ sequences: [Int64]) async throws {
        try await queue.remove(sequences)
    }

    func deadLetter(_ letters: [UplinkDeadLetter]) async throws {
        try await queue.moveToDeadLetters(
            letters.map {
                DeadLetterMove(
                    sequence: $0.sequence, reasonCode: $0.reasonCode, reasonString: $0.reasonString,
                    refusedAt: $0.refusedAt)
            })
    }

    func waitForAppend(after sequence: Int64) async {
        await queue.waitForAppend(after: sequence)
    }
}
