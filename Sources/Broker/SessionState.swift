import DequeModule
import MQTTCodec
import WharfCore

/// The delivery state of one MQTT session, free of I/O: packet identifiers, the window of
/// in-flight QoS 1/2 publishes, the queue behind it, and inbound QoS 2 identifiers awaiting
/// PUBREL. Every method takes the current time and returns the packets to send; the caller
/// owns the socket.
struct SessionState: Sendable {
    /// A packet the session wants written to its connection.
    enum Action: Sendable {
        case publish(PublishPacket)
        case pubRel(UInt16)
        case drop(DropReason)
        /// The stored copy of a message is no longer needed (acknowledged or dropped).
        case forget(Int64)
        /// A stored QoS 2 message got PUBREC: after a restart, resend PUBREL with this identifier.
        case released(Int64, UInt16)
        /// A stored QoS 2 message went out under this identifier: after a restart, resend it
        /// with DUP under the same one.
        case sent(Int64, UInt16)
    }

    /// Where an outbound QoS 1/2 publish stands in its handshake; described by the packet it awaits.
    enum Phase: Sendable, Equatable, CustomStringConvertible {
        /// QoS 1 sent, waiting for PUBACK.
        case awaitingPubAck
        /// QoS 2 sent, waiting for PUBREC.
        case awaitingPubRec
        /// PUBREL sent, waiting for PUBCOMP.
        case awaitingPubComp

        var description: String {
            switch self {
            case .awaitingPubAck: "PUBACK"
            case .awaitingPubRec: "PUBREC"
            case .awaitingPubComp: "PUBCOMP"
            }
        }
    }

    /// What an acknowledgement from the client did to the outbound flow of its identifier.
    enum AckOutcome: Sendable {
        /// It advanced or ended the flow, causing these packets and store updates.
        case applied([Action])
        /// No publish is in flight under the identifier. Recovery produces this (an
        /// acknowledgement repeated after a reconnect, for a flow already ended), so it is no error.
        case unknownIdentifier
        /// The identifier is in flight at another step of its handshake: a PUBREC or PUBCOMP
        /// for QoS 1, a PUBACK for QoS 2, a PUBCOMP before PUBREL. A protocol error
        /// (MQTT 3.1.1 §4.8, MQTT 5 §4.13); the flow is left as it was.
        case unexpected(awaiting: Phase)
    }

    struct InFlight: Sendable {
        var packetIdentifier: UInt16
        var message: OutboundMessage
        var phase: Phase
    }

    /// Configured window (`max_inflight_messages`).
    let configuredWindow: Int
    /// Configured queue bound (`max_queued_messages`, 0 = unbounded).
    let maxQueued: Int
    /// Configured bound on the bytes (topic and payload) of queued messages (`max_queued_bytes`,
    /// 0 = unbounded).
    let maxQueuedBytes: Int

    private(set) var isConnected = false
    /// min(configured window, the client's MQTT 5 Receive Maximum).
    private(set) var window: Int
    /// The client's Maximum Packet Size (MQTT 5), or the protocol maximum.
    private(set) var clientMaximumPacketSize: Int = 268_435_460
    private(set) var version: MQTTProtocolVersion = .v311

    /// In send order; acknowledgements usually arrive in that order, so they hit the front.
    private(set) var inFlight: Deque<InFlight> = []
    /// The packet identifiers of `inFlight`, for O(1) allocation of a free one.
    private var identifiersInUse: Set<UInt16> = []
    private(set) var queue: Deque<OutboundMessage> = []
    /// Topic and payload bytes of `queue`.
    private(set) var queuedBytes = 0
    private var lastPacketIdentifier: UInt16 = 0

    /// Where an inbound QoS 2 message stands until its PUBREL.
    enum InboundPhase: Sendable, Equatable {
        /// Routed; a durable write it needs (a forward rule, a persistent session) is pending.
        case routing
        /// Routed and kept: PUBREC may be sent, and a resend is not routed again.
        case stored
    }

    /// What an inbound QoS 2 PUBLISH is, by its packet identifier.
    enum InboundReceipt: Sendable, Equatable {
        /// A new message: route it.
        case new
        /// A resend of a message already kept: acknowledge it without routing it again.
        case duplicateStored
        /// A resend of a message whose write is still pending: acknowledge it with that
        /// write's outcome, once known.
        case duplicateRouting
    }

    /// Inbound QoS 2 packet identifiers that wait for PUBREL, with their phase.
    private(set) var awaitingRelease: [UInt16: InboundPhase] = [:]

    /// Creates an empty, disconnected session state.
    init(maxInflight: Int, maxQueued: Int, maxQueuedBytes: Int = 0) {
        self.configuredWindow = max(1, maxInflight)
        self.window = max(1, maxInflight)
        self.maxQueued = maxQueued
        self.maxQueuedBytes = maxQueuedBytes
    }

    // MARK: Connection

    /// A connection took the session: resend what is in flight (PUBLISH with DUP, or PUBREL),
    /// then fill the window from the queue.
    mutating func attach(
        version: MQTTProtocolVersion,
        receiveMaximum: Int,
        maximumPacketSize: Int,
        now: UInt64
    ) -> [Action] {
        self.isConnected = true
        self.version = version
        self.window = max(1, min(configuredWindow, receiveMaximum))
        self.clientMaximumPacketSize = maximumPacketSize
        var actions: [Action] = []
        for entry in inFlight {
            switch entry.phase {
            case .awaitingPubComp:
                actions.append(.pubRel(entry.packetIdentifier))
            case .awaitingPubAck, .awaitingPubRec:
                // A message in flight was already announced to the client; MQTT 5 §4.3 says
                // message expiry does not apply once it is sent, so resend it as is.
                actions.append(
                    .publish(entry.message.publishPacket(packetIdentifier: entry.packetIdentifier, dup: true, now: now))
                )
            }
        }
        fillWindow(now: now, into: &actions)
        return actions
    }

    /// The connection went away; in-flight and queued messages stay for the next one.
    mutating func detach() {
        isConnected = false
    }

    // MARK: Outbound

    /// Offers a message to the session. QoS 0 is sent at once when connected; QoS 1/2 takes
    /// a window slot or waits in the queue.
    mutating func enqueue(_ message: OutboundMessage, now: UInt64) -> [Action] {
        if message.remainingExpiry(at: now) == 0 {
            return Self.dropping(message, .expired)
        }
        if message.qos == .atMostOnce {
            guard isConnected else { return [.drop(.offlineQoS0)] }
            let packet = message.publishPacket(packetIdentifier: nil, dup: false, now: now)
            return [.publish(packet)]
        }
        if isConnected && queue.isEmpty && inFlight.count < window {
            var actions: [Action] = []
            send(message, now: now, into: &actions)
            return actions
        }
        if maxQueued > 0 && queue.count >= maxQueued {
            return Self.dropping(message, .queueFull)
        }
        let size = message.queuedSize
        if maxQueuedBytes > 0 && queuedBytes + size > maxQueuedBytes {
            return Self.dropping(message, .queueFull)
        }
        append(message)
        return []
    }

    /// PUBACK for an outbound QoS 1 publish.
    mutating func pubAck(_ packetIdentifier: UInt16, now: UInt64) -> AckOutcome {
        guard let index = inFlightIndex(packetIdentifier) else { return .unknownIdentifier }
        guard inFlight[index].phase == .awaitingPubAck else { return .unexpected(awaiting: inFlight[index].phase) }
        var actions = Self.forgetting(inFlight[index].message)
        removeInFlight(at: index)
        fillWindow(now: now, into: &actions)
        return .applied(actions)
    }

    /// PUBREC for an outbound QoS 2 publish: answer PUBREL, or end the flow on an error code.
    /// A successful PUBREC repeated while PUBCOMP is awaited gets its PUBREL again, as
    /// Mosquitto does. For an unknown identifier MQTT 5 wants PUBREL 0x92, which the caller sends.
    mutating func pubRec(_ packetIdentifier: UInt16, reasonCode: ReasonCode, now: UInt64) -> AckOutcome {
        guard let index = inFlightIndex(packetIdentifier) else { return .unknownIdentifier }
        switch inFlight[index].phase {
        case .awaitingPubRec:
            break
        case .awaitingPubComp where reasonCode.rawValue < 0x80:
            return .applied([.pubRel(packetIdentifier)])
        case .awaitingPubComp, .awaitingPubAck:
            return .unexpected(awaiting: inFlight[index].phase)
        }
        if reasonCode.rawValue >= 0x80 {
            var actions = Self.forgetting(inFlight[index].message)
            removeInFlight(at: index)
            fillWindow(now: now, into: &actions)
            return .applied(actions)
        }
        inFlight[index].phase = .awaitingPubComp
        if let storeID = inFlight[index].message.storeID {
            return .applied([.released(storeID, packetIdentifier), .pubRel(packetIdentifier)])
        }
        return .applied([.pubRel(packetIdentifier)])
    }

    /// PUBCOMP ends an outbound QoS 2 flow.
    mutating func pubComp(_ packetIdentifier: UInt16, now: UInt64) -> AckOutcome {
        guard let index = inFlightIndex(packetIdentifier) else { return .unknownIdentifier }
        guard inFlight[index].phase == .awaitingPubComp else { return .unexpected(awaiting: inFlight[index].phase) }
        var actions = Self.forgetting(inFlight[index].message)
        removeInFlight(at: index)
        fillWindow(now: now, into: &actions)
        return .applied(actions)
    }

    // MARK: Inbound QoS 2

    /// An inbound QoS 2 PUBLISH: new (route it, and the identifier waits in ``InboundPhase/routing``),
    /// or a retransmission of one not yet released (never routed again: that makes QoS 2
    /// exactly once).
    mutating func receiveQoS2(_ packetIdentifier: UInt16) -> InboundReceipt {
        switch awaitingRelease[packetIdentifier] {
        case nil:
            awaitingRelease[packetIdentifier] = .routing
            return .new
        case .routing?:
            return .duplicateRouting
        case .stored?:
            return .duplicateStored
        }
    }

    /// The message of an inbound identifier is kept: PUBREC may go out.
    mutating func inboundStored(_ packetIdentifier: UInt16) {
        if awaitingRelease[packetIdentifier] != nil { awaitingRelease[packetIdentifier] = .stored }
    }

    /// The message of an inbound identifier was refused or could not be kept: the identifier is
    /// free again, so that the client's resend is routed as new.
    mutating func inboundFailed(_ packetIdentifier: UInt16) {
        if awaitingRelease[packetIdentifier] == .routing { awaitingRelease[packetIdentifier] = nil }
    }

    /// PUBREL from the client: returns whether the identifier was known.
    mutating func release(_ packetIdentifier: UInt16) -> Bool {
        awaitingRelease.removeValue(forKey: packetIdentifier) != nil
    }

    /// Inbound identifiers kept across a restart: their messages were routed and kept before.
    mutating func restoreInbound(_ packetIdentifiers: [UInt16]) {
        for identifier in packetIdentifiers { awaitingRelease[identifier] = .stored }
    }

    /// Forgets every message and identifier: the session ended.
    mutating func discardMessages() {
        queue.removeAll()
        queuedBytes = 0
        inFlight.removeAll()
        identifiersInUse.removeAll()
        awaitingRelease.removeAll()
    }

    // MARK: Access changes

    /// Drops the messages `isUnreadable` accepts from the queue, and from the in-flight window
    /// those not yet sent on the current connection (while disconnected, every one awaiting
    /// PUBACK or PUBREC): the client's access changed (an ACL reload, another owner).
    /// Messages past PUBREC complete as they are.
    mutating func purge(where isUnreadable: (OutboundMessage) -> Bool, now: UInt64) -> [Action] {
        var actions: [Action] = []
        if !queue.isEmpty {
            var kept: Deque<OutboundMessage> = []
            for message in queue {
                if isUnreadable(message) {
                    queuedBytes -= message.queuedSize
                    actions += Self.dropping(message, .notAuthorized)
                } else {
                    kept.append(message)
                }
            }
            queue = kept
        }
        if !isConnected {
            var index = inFlight.startIndex
            while index < inFlight.endIndex {
                let entry = inFlight[index]
                if entry.phase != .awaitingPubComp, isUnreadable(entry.message) {
                    actions += Self.dropping(entry.message, .notAuthorized)
                    removeInFlight(at: index)
                } else {
                    index += 1
                }
            }
        }
        fillWindow(now: now, into: &actions)
        return actions
    }

    // MARK: Restoring

    /// Puts back a stored message after a restart: QoS 2 messages whose PUBREC had arrived wait
    /// for PUBCOMP under their identifier, QoS 2 messages sent before are resent with DUP under
    /// theirs (the client may hold it already); the rest queue in order (they are sent on attach).
    mutating func restore(_ message: OutboundMessage, releasedPacketIdentifier: UInt16?, sentPacketIdentifier: UInt16?)
    {
        if let identifier = releasedPacketIdentifier, !identifiersInUse.contains(identifier) {
            identifiersInUse.insert(identifier)
            inFlight.append(InFlight(packetIdentifier: identifier, message: message, phase: .awaitingPubComp))
        } else if let identifier = sentPacketIdentifier, message.qos == .exactlyOnce,
            !identifiersInUse.contains(identifier)
        {
            identifiersInUse.insert(identifier)
            inFlight.append(InFlight(packetIdentifier: identifier, message: message, phase: .awaitingPubRec))
        } else {
            append(message)
        }
    }

    // MARK: Internals

    private mutating func append(_ message: OutboundMessage) {
        queue.append(message)
        queuedBytes += message.queuedSize
    }

    private static func dropping(_ message: OutboundMessage, _ reason: DropReason) -> [Action] {
        if let storeID = message.storeID { return [.drop(reason), .forget(storeID)] }
        return [.drop(reason)]
    }

    private static func forgetting(_ message: OutboundMessage) -> [Action] {
        message.storeID.map { [.forget($0)] } ?? []
    }

    private mutating func fillWindow(now: UInt64, into actions: inout [Action]) {
        guard isConnected else { return }
        while inFlight.count < window, let next = queue.popFirst() {
            queuedBytes -= next.queuedSize
            if next.remainingExpiry(at: now) == 0 {
                actions += Self.dropping(next, .expired)
                continue
            }
            send(next, now: now, into: &actions)
        }
    }

    private mutating func send(_ message: OutboundMessage, now: UInt64, into actions: inout [Action]) {
        let identifier = nextPacketIdentifier()
        let packet = message.publishPacket(packetIdentifier: identifier, dup: false, now: now)
        if version == .v5, clientMaximumPacketSize < 268_435_460,
            MQTTPacket.publish(packet).encodedSize(version: version) > clientMaximumPacketSize
        {
            // MQTT 5 §3.1.2.11.4: a packet the client cannot take is discarded as if delivered.
            actions += Self.dropping(message, .tooLargeForClient)
            return
        }
        identifiersInUse.insert(identifier)
        inFlight.append(
            InFlight(
                packetIdentifier: identifier,
                message: message,
                phase: message.qos == .exactlyOnce ? .awaitingPubRec : .awaitingPubAck
            )
        )
        actions.append(.publish(packet))
        if message.qos == .exactlyOnce, let storeID = message.storeID {
            actions.append(.sent(storeID, identifier))
        }
    }

    private mutating func nextPacketIdentifier() -> UInt16 {
        // At most 65,535 identifiers are in use (the window's bound), so a free one exists.
        repeat {
            lastPacketIdentifier = lastPacketIdentifier == UInt16.max ? 1 : lastPacketIdentifier + 1
        } while identifiersInUse.contains(lastPacketIdentifier)
        return lastPacketIdentifier
    }

    /// The position of an in-flight identifier: the front in the usual in-order case.
    private func inFlightIndex(_ packetIdentifier: UInt16) -> Int? {
        guard identifiersInUse.contains(packetIdentifier) else { return nil }
        if inFlight.first?.packetIdentifier == packetIdentifier { return inFlight.startIndex }
        return inFlight.firstIndex { $0.packetIdentifier == packetIdentifier }
    }

    private mutating func removeInFlight(at index: Int) {
        identifiersInUse.remove(inFlight[index].packetIdentifier)
        if index == inFlight.startIndex {
            inFlight.removeFirst()
        } else {
            inFlight.remove(at: index)
        }
    }
}
