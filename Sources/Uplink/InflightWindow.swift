import MQTTCodec
import NIOCore
import WharfCore

/// The uplink's delivery state: which queue records are out awaiting PUBACK, under which packet
/// identifiers, and what must go out again after a reconnect. Pure: the connection feeds it events
/// (connected, records read, PUBACK received) and writes the packets it returns.
///
/// Invariants: records enter in increasing sequence order and leave it only when acknowledged; at most
/// `capacity` publishes (records and status messages) await PUBACK on a connection; after a reconnect
/// every unacknowledged record goes out again, in its original order, before any newer record.
struct InflightWindow: Sendable {
    /// What the connection must do after a window operation.
    struct Batch: Sendable {
        /// PUBLISH packets to write, in this order.
        var publishes: [PublishPacket] = []
        /// Records finished without a PUBACK (QoS 0 once written, or dropped): acknowledge them to the queue.
        var finished: [Int64] = []
        /// Records given up, with the reason, for logging and counting.
        var dropped: [(sequence: Int64, reason: DropReason)] = []
        /// Records that can never be sent to the link's endpoint: move them to the dead-letter table.
        var deadLettered: [(sequence: Int64, refusal: LocalRefusal)] = []
        /// Whether QoS 1 records wait because the server's Maximum QoS is 0 (they are never downgraded).
        var heldByMaximumQoS = false

        var isEmpty: Bool { publishes.isEmpty && finished.isEmpty && deadLettered.isEmpty }
    }

    /// Why a record is dropped instead of sent (one that can never fit is dead-lettered instead, `LocalRefusal`).
    enum DropReason: String, Error, Sendable, Hashable {
        /// Its message expiry passed while it waited.
        case expired
    }

    /// What a PUBACK acknowledged.
    enum Acknowledgement: Sendable, Hashable {
        /// The queue record with this sequence.
        case record(Int64)
        /// A status message ("online" / "offline").
        case status
        /// Nothing this window sent: a stray or duplicate PUBACK.
        case unknown
    }

    private enum Slot: Sendable {
        /// A record; `sent` is false while it waits to be resent on the current connection.
        case record(UplinkItem, sent: Bool)
        case status
        case subscription
    }

    /// Our own limit on unacknowledged publishes.
    let maxInflight: Int
    /// The limit on the current connection; 0 while disconnected.
    private(set) var capacity = 0
    /// The throttle's limit on records awaiting PUBACK (status publishes are not throttled).
    private(set) var limit = Int.max
    /// Publishes sent on the current connection and awaiting PUBACK.
    private(set) var inFlight = 0
    /// The highest sequence taken from the queue; the next read starts after it.
    private(set) var lastRead: Int64
    /// The connection's parameters; nil while disconnected.
    private(set) var link: LinkParameters?

    private var outstanding: [UInt16: Slot] = [:]
    /// Packet identifiers of records to resend, in sequence order; `resendHead` marks the next one.
    private var resendOrder: [UInt16] = []
    private var resendHead = 0
    private var nextIdentifier: UInt16 = 1
    /// Records refused as transient and waiting to go out again: the server closed their packet
    /// identifier's flow, so the next transmission is a new PUBLISH without DUP.
    private var refusedIdentifiers: Set<UInt16> = []

    /// Creates an empty window that reads the queue after `lastRead`.
    init(maxInflight: Int, lastRead: Int64 = 0) {
        self.maxInflight = max(1, maxInflight)
        self.lastRead = lastRead
    }

    /// Records taken from the queue and not yet acknowledged (sent or waiting to be resent), in order.
    var unacknowledged: [Int64] {
        outstanding.values.compactMap { slot -> Int64? in
            if case .record(let item, _) = slot { return item.sequence }
            return nil
        }.sorted()
    }

    /// Records waiting to be resent on the current connection.
    var pendingResends: Int { resendOrder.count - resendHead }

    /// A new connection was accepted: everything unacknowledged is queued for resending, in order.
    ///
    /// A retransmission carries DUP only when the server resumed the session (`sessionPresent`), since
    /// only then can it have seen the packet identifier before.
    mutating func connected(_ parameters: LinkParameters) {
        link = parameters
        capacity = parameters.windowCapacity(maxInflight: maxInflight)
        inFlight = 0
        var records: [(sequence: Int64, identifier: UInt16)] = []
        for (identifier, slot) in outstanding {
            switch slot {
            case .record(let item, _):
                outstanding[identifier] = .record(item, sent: false)
                records.append((item.sequence, identifier))
            case .status, .subscription:
                // Status messages are published afresh and subscriptions renewed on every connection.
                outstanding[identifier] = nil
            }
        }
        records.sort { $0.sequence < $1.sequence }
        resendOrder = records.map(\.identifier)
        resendHead = 0
    }

    /// The link dropped: nothing may be sent until `connected`.
    mutating func disconnected() {
        link = nil
        capacity = 0
    }

    /// The records' share of the window: the connection's capacity, lowered by the throttle.
    private var recordCapacity: Int { min(capacity, limit) }

    /// Sets the throttle's limit on records awaiting PUBACK (at least 1); records already out stay out.
    mutating func setLimit(_ newLimit: Int) {
        limit = max(1, newLimit)
    }

    /// How many records to read from the queue now: 0 while resends are pending, while disconnected, or
    /// while fewer than a quarter of the window is free (refilling in larger batches costs fewer writes).
    func readLimit(batch: Int) -> Int {
        guard link != nil, pendingResends == 0 else { return 0 }
        let capacity = recordCapacity
        let free = capacity - inFlight
        let threshold = max(1, min(batch, capacity / 4))
        guard free >= threshold || inFlight == 0 else { return 0 }
        return max(0, min(free, batch))
    }

    /// Takes the next retransmissions that fit in the window, at most `limit` publishes (the publish rate's).
    mutating func takeResends(now: Int64, limit: Int = .max) -> Batch {
        var batch = Batch()
        guard let link else { return batch }
        while resendHead < resendOrder.count && inFlight < recordCapacity && batch.publishes.count < limit {
            let identifier = resendOrder[resendHead]
            // A PUBACK may have arrived for it in the meantime; then it is simply gone.
            guard case .record(let item, sent: false) = outstanding[identifier] else {
                resendHead += 1
                continue
            }
            if item.qos != .atMostOnce && link.maximumQoS == .atMostOnce {
                batch.heldByMaximumQoS = true
                break
            }
            resendHead += 1
            let dup = link.sessionPresent && !refusedIdentifiers.contains(identifier)
            refusedIdentifiers.remove(identifier)
            switch Self.packet(for: item, identifier: identifier, dup: dup, link: link, now: now) {
            case .success(let packet):
                outstanding[identifier] = .record(item, sent: true)
                inFlight += 1
                batch.publishes.append(packet)
            case .failure(let reason):
                outstanding[identifier] = nil
                batch.giveUp(item.sequence, reason)
            }
        }
        if resendHead == resendOrder.count {
            resendOrder.removeAll(keepingCapacity: true)
            resendHead = 0
        }
        return batch
    }

    /// Takes records read from the queue, in order, as far as the window allows; the rest are left for
    /// the next read (`lastRead` advances only over records taken).
    mutating func admit(_ items: [UplinkItem], now: Int64) -> Batch {
        var batch = Batch()
        guard let link, pendingResends == 0 else { return batch }
        for item in items where item.sequence > lastRead {
            // A server whose Maximum QoS is 0 cannot take responsibility for a QoS 1 record: sending it
            // at QoS 0 and deleting it would lose it unnoticed, so it waits (and everything after it, in order).
            if item.qos != .atMostOnce && link.maximumQoS == .atMostOnce {
                batch.heldByMaximumQoS = true
                break
            }
            let qos: QoS = item.qos == .atMostOnce ? .atMostOnce : .atLeastOnce
            var identifier: UInt16? = nil
            if qos == .atLeastOnce {
                guard inFlight < recordCapacity, let free = allocateIdentifier() else { break }
                identifier = free
            }
            lastRead = item.sequence
            switch Self.packet(for: item, identifier: identifier, dup: false, link: link, now: now) {
            case .success(let packet):
                batch.publishes.append(packet)
                if let identifier {
                    outstanding[identifier] = .record(item, sent: true)
                    inFlight += 1
                } else {
                    batch.finished.append(item.sequence)
                }
            case .failure(let reason):
                batch.giveUp(item.sequence, reason)
            }
        }
        return batch
    }

    /// Registers a PUBACK; a record's acknowledgement means the queue may delete it.
    mutating func acknowledge(_ identifier: UInt16) -> Acknowledgement {
        switch outstanding[identifier] {
        case .record(let item, let sent):
            outstanding[identifier] = nil
            refusedIdentifiers.remove(identifier)
            if sent { inFlight -= 1 }
            return .record(item.sequence)
        case .status:
            outstanding[identifier] = nil
            inFlight -= 1
            return .status
        case .subscription, nil:
            return .unknown
        }
    }

    /// Registers a PUBACK that refused a record for now: the record stays in the window and goes out
    /// again, in sequence order with the other resends, before any newer record.
    mutating func refuse(_ identifier: UInt16) -> Int64? {
        guard case .record(let item, let sent) = outstanding[identifier] else { return nil }
        if sent { inFlight -= 1 }
        outstanding[identifier] = .record(item, sent: false)
        refusedIdentifiers.insert(identifier)
        if !resendOrder[resendHead...].contains(identifier) {
            let position =
                resendOrder[resendHead...].firstIndex { other in
                    guard case .record(let pending, _) = outstanding[other] else { return false }
                    return pending.sequence > item.sequence
                } ?? resendOrder.endIndex
            resendOrder.insert(identifier, at: position)
        }
        return item.sequence
    }

    /// Gives up a sent record whose packet could not be written: it leaves the window like an acknowledged one.
    mutating func abandon(_ identifier: UInt16) -> Int64? {
        guard case .record(let item, let sent) = outstanding[identifier] else { return nil }
        outstanding[identifier] = nil
        if sent { inFlight -= 1 }
        return item.sequence
    }

    /// Reserves a packet identifier for a status publish (it counts against the window); nil if full.
    mutating func reserveStatus() -> UInt16? {
        guard link != nil, inFlight < capacity, let identifier = allocateIdentifier() else { return nil }
        outstanding[identifier] = .status
        inFlight += 1
        return identifier
    }

    /// Reserves a packet identifier for a SUBSCRIBE (not counted against the window).
    mutating func reserveSubscription() -> UInt16? {
        guard let identifier = allocateIdentifier() else { return nil }
        outstanding[identifier] = .subscription
        return identifier
    }

    /// Whether a packet identifier still awaits its acknowledgement.
    func isOutstanding(_ identifier: UInt16) -> Bool {
        outstanding[identifier] != nil
    }

    /// Releases a SUBSCRIBE's identifier when its SUBACK arrives; false if it was not outstanding.
    mutating func completeSubscription(_ identifier: UInt16) -> Bool {
        guard case .subscription = outstanding[identifier] else { return false }
        outstanding[identifier] = nil
        return true
    }

    private mutating func allocateIdentifier() -> UInt16? {
        // Fewer than 65535 outstanding means a free identifier exists; the scan is short unless nearly full.
        guard outstanding.count < Int(UInt16.max) else { return nil }
        while true {
            let candidate = nextIdentifier
            nextIdentifier = nextIdentifier == UInt16.max ? 1 : nextIdentifier + 1
            if outstanding[candidate] == nil { return candidate }
        }
    }
}
