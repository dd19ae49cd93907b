import MQTTCodec
import NIOCore
import WharfCore

/// The uplink's delivery state: which queue records are out awaiting PUBACK (or PUBREC and PUBCOMP at
/// QoS 2), under which packet identifiers, and what must go out again after a reconnect. Pure: the
/// connection feeds it events (connected, records read, acknowledgements received) and writes the
/// packets it returns.
///
/// Invariants: records enter in increasing sequence order and leave it only when acknowledged; at most
/// `capacity` publishes (records and status messages) await PUBACK or PUBCOMP on a connection; after a
/// reconnect every unacknowledged record goes out again, in its original order, before any newer record.
///
/// QoS 2 records use packet identifiers from `exactlyOnceIdentifiers` only, and nothing else does: a
/// server keeps a QoS 2 identifier busy until PUBREL, across connections, and after a restart of the
/// daemon the window no longer knows which ones. On a resumed session it therefore releases (PUBREL)
/// every identifier of that range it does not hold itself before anything else is sent, so that a new
/// message can never be taken by the server for the retransmission of an old one and discarded.
struct InflightWindow: Sendable {
    /// What the connection must do after a window operation.
    struct Batch: Sendable {
        /// PUBREL packets to write first: QoS 2 releases, in this order.
        var releases: [UInt16] = []
        /// PUBLISH packets to write after the releases, in this order.
        var publishes: [PublishPacket] = []
        /// Records finished without a PUBACK (QoS 0 once written, or dropped): acknowledge them to the queue.
        var finished: [Int64] = []
        /// Records given up, with the reason, for logging and counting.
        var dropped: [(sequence: Int64, reason: DropReason)] = []
        /// Records that can never be sent to the link's endpoint: move them to the dead-letter table.
        var deadLettered: [(sequence: Int64, refusal: LocalRefusal)] = []
        /// Whether QoS 1 records wait because the server's Maximum QoS is 0 (they are never downgraded).
        var heldByMaximumQoS = false

        var isEmpty: Bool { releases.isEmpty && publishes.isEmpty && finished.isEmpty && deadLettered.isEmpty }
    }

    /// Why a record is dropped instead of sent (one that can never fit is dead-lettered instead, `LocalRefusal`).
    enum DropReason: String, Error, Sendable, Hashable {
        /// Its message expiry passed while it waited.
        case expired
    }

    /// What a PUBACK (or a PUBREC ending a QoS 2 flow) acknowledged.
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
        /// A QoS 2 record the server received (PUBREC): the record is the server's, the identifier stays
        /// busy until PUBCOMP; `sent` is false while its PUBREL waits to be sent on this connection.
        case released(sequence: Int64, sent: Bool)
        /// An identifier of the QoS 2 range released on a resumed session in case an earlier run left
        /// it open at the server; not counted in the window.
        case staleRelease
        case status
        case subscription
    }

    /// The packet identifiers QoS 2 records use, and only they; released on every resumed session.
    static let exactlyOnceIdentifiers: ClosedRange<UInt16> = 64_512...UInt16.max
    /// The packet identifiers everything else uses.
    static let otherIdentifiers: ClosedRange<UInt16> = 1...(exactlyOnceIdentifiers.lowerBound - 1)

    /// Our own limit on unacknowledged publishes.
    let maxInflight: Int
    /// Whether records may ask for QoS 2 (a forward rule says so): only then are the QoS 2 range's
    /// identifiers released on a resumed session.
    let exactlyOnce: Bool
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
    /// Packet identifiers whose PUBREL must be sent on this connection, in this order.
    private var releaseOrder: [UInt16] = []
    private var nextIdentifier = otherIdentifiers.lowerBound
    private var nextExactlyOnceIdentifier = exactlyOnceIdentifiers.lowerBound
    /// How many identifiers of each range are outstanding.
    private var exactlyOnceInUse = 0
    private var otherInUse = 0
    /// Records refused as transient and waiting to go out again: the server closed their packet
    /// identifier's flow, so the next transmission is a new PUBLISH without DUP.
    private var refusedIdentifiers: Set<UInt16> = []

    /// Creates an empty window that reads the queue after `lastRead`.
    init(maxInflight: Int, exactlyOnce: Bool = false, lastRead: Int64 = 0) {
        self.maxInflight = max(1, maxInflight)
        self.exactlyOnce = exactlyOnce
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

    /// QoS 2 identifiers awaiting PUBCOMP (records the server holds, and releases of an earlier run).
    var pendingCompletions: Int {
        outstanding.values.count { slot in
            switch slot {
            case .released, .staleRelease: true
            case .record, .status, .subscription: false
            }
        }
    }

    /// A new connection was accepted: everything unacknowledged is queued for resending, in order.
    ///
    /// A retransmission carries DUP only when the server resumed the session (`sessionPresent`), since
    /// only then can it have seen the packet identifier before. On a resumed session, QoS 2 records the
    /// server had received get their PUBREL again, and every other identifier of the QoS 2 range is
    /// released too (an earlier run may have left it open); on a new session the server holds none.
    mutating func connected(_ parameters: LinkParameters) {
        link = parameters
        capacity = parameters.windowCapacity(maxInflight: maxInflight)
        inFlight = 0
        var records: [(sequence: Int64, identifier: UInt16)] = []
        var releases: [(sequence: Int64, identifier: UInt16)] = []
        for (identifier, slot) in outstanding {
            switch slot {
            case .record(let item, _):
                outstanding[identifier] = .record(item, sent: false)
                records.append((item.sequence, identifier))
            case .released(let sequence, _) where parameters.sessionPresent:
                outstanding[identifier] = .released(sequence: sequence, sent: false)
                releases.append((sequence, identifier))
            case .released, .staleRelease, .status, .subscription:
                // Status messages are published afresh and subscriptions renewed on every connection; a
                // new session holds no QoS 2 state, and stale releases are redone below.
                free(identifier)
            }
        }
        records.sort { $0.sequence < $1.sequence }
        resendOrder = records.map(\.identifier)
        resendHead = 0
        releases.sort { $0.sequence < $1.sequence }
        releaseOrder = releases.map(\.identifier)
        if parameters.sessionPresent && exactlyOnce && parameters.maximumQoS == .exactlyOnce {
            for identifier in Self.exactlyOnceIdentifiers where outstanding[identifier] == nil {
                occupy(identifier, .staleRelease)
                releaseOrder.append(identifier)
            }
        }
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

    /// Takes the PUBRELs due on this connection, then the next retransmissions that fit in the window,
    /// at most `limit` publishes (the publish rate's; PUBRELs are not publishes).
    mutating func takeResends(now: Int64, limit: Int = .max) -> Batch {
        var batch = Batch()
        guard let link else { return batch }
        for identifier in releaseOrder {
            switch outstanding[identifier] {
            case .released(let sequence, sent: false):
                outstanding[identifier] = .released(sequence: sequence, sent: true)
                inFlight += 1
                batch.releases.append(identifier)
            case .staleRelease:
                batch.releases.append(identifier)
            default:
                continue
            }
        }
        releaseOrder.removeAll(keepingCapacity: true)
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
            // A record keeps its identifier, so it keeps its QoS when the server grants it.
            let qos: QoS = Self.exactlyOnceIdentifiers.contains(identifier) ? link.maximumQoS : .atLeastOnce
            switch Self.packet(for: item, qos: qos, identifier: identifier, dup: dup, link: link, now: now) {
            case .success(let packet):
                outstanding[identifier] = .record(item, sent: true)
                inFlight += 1
                batch.publishes.append(packet)
            case .failure(let reason):
                free(identifier)
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
            // QoS 2 where the record asks for it and the server grants it; QoS 1 otherwise.
            let qos = min(item.qos, link.maximumQoS)
            var identifier: UInt16? = nil
            if qos != .atMostOnce {
                guard inFlight < recordCapacity, let free = allocateIdentifier(exactlyOnce: qos == .exactlyOnce)
                else { break }
                identifier = free
            }
            lastRead = item.sequence
            switch Self.packet(for: item, qos: qos, identifier: identifier, dup: false, link: link, now: now) {
            case .success(let packet):
                batch.publishes.append(packet)
                if let identifier {
                    occupy(identifier, .record(item, sent: true))
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

    /// Registers a PUBACK, or a PUBREC with a failure reason code (which ends a QoS 2 flow); a record's
    /// acknowledgement means the queue may delete it (or move it to the dead letters).
    mutating func acknowledge(_ identifier: UInt16) -> Acknowledgement {
        switch outstanding[identifier] {
        case .record(let item, let sent):
            free(identifier)
            refusedIdentifiers.remove(identifier)
            if sent { inFlight -= 1 }
            return .record(item.sequence)
        case .status:
            free(identifier)
            inFlight -= 1
            return .status
        case .released, .staleRelease, .subscription, nil:
            return .unknown
        }
    }

    /// Registers a successful PUBREC: the server has the QoS 2 record, so the queue may delete it; its
    /// PUBREL goes out with the next batch and the identifier stays busy until PUBCOMP.
    mutating func received(_ identifier: UInt16) -> Acknowledgement {
        guard case .record(let item, let sent) = outstanding[identifier], sent,
            Self.exactlyOnceIdentifiers.contains(identifier)
        else { return .unknown }
        refusedIdentifiers.remove(identifier)
        outstanding[identifier] = .released(sequence: item.sequence, sent: false)
        inFlight -= 1
        releaseOrder.append(identifier)
        return .record(item.sequence)
    }

    /// Registers a PUBCOMP: the QoS 2 flow is over and its identifier free. False for an identifier
    /// that awaited none (a stray PUBCOMP).
    mutating func complete(_ identifier: UInt16) -> Bool {
        switch outstanding[identifier] {
        case .released(_, let sent):
            free(identifier)
            if sent { inFlight -= 1 }
            return true
        case .staleRelease:
            free(identifier)
            return true
        case .record, .status, .subscription, nil:
            return false
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
        free(identifier)
        if sent { inFlight -= 1 }
        return item.sequence
    }

    /// Reserves a packet identifier for a status publish (it counts against the window); nil if full.
    mutating func reserveStatus() -> UInt16? {
        guard link != nil, inFlight < capacity, let identifier = allocateIdentifier(exactlyOnce: false) else {
            return nil
        }
        occupy(identifier, .status)
        inFlight += 1
        return identifier
    }

    /// Reserves a packet identifier for a SUBSCRIBE (not counted against the window).
    mutating func reserveSubscription() -> UInt16? {
        guard let identifier = allocateIdentifier(exactlyOnce: false) else { return nil }
        occupy(identifier, .subscription)
        return identifier
    }

    /// Whether a packet identifier still awaits its acknowledgement.
    func isOutstanding(_ identifier: UInt16) -> Bool {
        outstanding[identifier] != nil
    }

    /// Releases a SUBSCRIBE's identifier when its SUBACK arrives; false if it was not outstanding.
    mutating func completeSubscription(_ identifier: UInt16) -> Bool {
        guard case .subscription = outstanding[identifier] else { return false }
        free(identifier)
        return true
    }

    /// A free identifier of the QoS 2 range or of the other one, taken in turn; nil if none is free.
    private mutating func allocateIdentifier(exactlyOnce: Bool) -> UInt16? {
        // Fewer outstanding than the range holds means one is free; the scan is short unless nearly full.
        let range = exactlyOnce ? Self.exactlyOnceIdentifiers : Self.otherIdentifiers
        guard (exactlyOnce ? exactlyOnceInUse : otherInUse) < range.count else { return nil }
        while true {
            let candidate = exactlyOnce ? nextExactlyOnceIdentifier : nextIdentifier
            let next = candidate == range.upperBound ? range.lowerBound : candidate + 1
            if exactlyOnce { nextExactlyOnceIdentifier = next } else { nextIdentifier = next }
            if outstanding[candidate] == nil { return candidate }
        }
    }

    /// Stores the slot of an identifier that was free.
    private mutating func occupy(_ identifier: UInt16, _ slot: Slot) {
        if outstanding.updateValue(slot, forKey: identifier) == nil {
            if Self.exactlyOnceIdentifiers.contains(identifier) { exactlyOnceInUse += 1 } else { otherInUse += 1 }
        }
    }

    /// Frees an outstanding identifier.
    private mutating func free(_ identifier: UInt16) {
        guard outstanding.removeValue(forKey: identifier) != nil else { return }
        if Self.exactlyOnceIdentifiers.contains(identifier) { exactlyOnceInUse -= 1 } else { otherInUse -= 1 }
    }
}
