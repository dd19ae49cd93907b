import NIOCore
import Store
import WharfCore

/// The one record every run writes, shaped like what an uplink forward rule queues for a
/// `wharf-bench` publication: a short topic, the rule's name and a payload of the chosen size.
struct SampleRecord: Sendable {
    /// The forward rule's name.
    var rule = "b/#"
    /// The remote topic (as long as `wharf-bench`'s `b/<run id>/i`).
    var topic = "b/0123456789/i"
    /// The payload bytes, for the bare loop.
    var payloadBytes: [UInt8]
    /// The same payload as the queue takes it.
    var payload: ByteBuffer
    /// A fixed wall-clock time: no TTL is configured, so it never expires.
    var enqueuedAt: Int64 = 1_800_000_000_000

    /// A record whose payload is `payloadSize` bytes of a fixed pattern.
    init(payloadSize: Int) {
        payloadBytes = (0..<payloadSize).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        payload = ByteBuffer(bytes: payloadBytes)
    }

    /// What the queue counts against its byte bound (no properties: they encode to nothing).
    var size: Int { payloadBytes.count + topic.utf8.count + rule.utf8.count }

    /// The record for `ForwardQueue.append`; the payload buffer is shared, never copied.
    var queueRecord: NewForwardRecord {
        NewForwardRecord(rule: rule, topic: topic, payload: payload, qos: .atLeastOnce, enqueuedAt: enqueuedAt)
    }
}
