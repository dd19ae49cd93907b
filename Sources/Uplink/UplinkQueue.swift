/// What the uplink drains: the durable store-and-forward queue, read in sequence order.
///
/// The uplink reads records after the last one it has taken, publishes them, and acknowledges a
/// record once the cloud broker has taken responsibility for it (PUBACK), or once it has been given
/// up (expired, sent at QoS 0). Acknowledgements come in batches and not necessarily in sequence
/// order; the queue deletes exactly the records named. A record the cloud refused for good, or one
/// that can never be sent to it (`uplink.limits`, its Maximum Packet Size), is not deleted but moved
/// to the dead-letter table (`deadLetter`).
public protocol UplinkQueue: Sendable {
    /// Up to `limit` records with a sequence greater than `sequence`, in increasing order.
    func read(after sequence: Int64, limit: Int) async throws -> [UplinkItem]
    /// Deletes the records with these sequence numbers; unknown ones are ignored.
    func acknowledge(_ sequences: [Int64]) async throws
    /// Moves these records from the queue to the dead-letter table, each move atomic; unknown ones are ignored.
    func deadLetter(_ letters: [UplinkDeadLetter]) async throws
    /// Returns once a record with a sequence greater than `sequence` exists, or when the task is cancelled.
    func waitForAppend(after sequence: Int64) async
}
