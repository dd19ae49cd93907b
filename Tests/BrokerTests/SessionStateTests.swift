import MQTTCodec
import NIOCore
import Testing
import WharfCore

@testable import Broker

private let second: UInt64 = 1_000_000_000

private func outbound(
    _ topic: String = "t",
    qos: QoS = .atLeastOnce,
    expiry: UInt32? = nil,
    receivedAt: UInt64 = 0
) -> OutboundMessage {
    var properties = MessageProperties()
    properties.messageExpiryInterval = expiry
    let message = Message(
        topic: topic,
        payload: ByteBuffer(string: topic),
        qos: qos,
        properties: properties,
        principal: .adapter("test"), receivedAt: receivedAt
    )
    return OutboundMessage(
        message: message, qos: qos, retain: false, subscriptionIdentifiers: [], enqueuedAt: receivedAt)
}

private func publishes(_ actions: [SessionState.Action]) -> [PublishPacket] {
    actions.compactMap { if case .publish(let packet) = $0 { packet } else { nil } }
}

private func publishes(_ outcome: SessionState.AckOutcome) -> [PublishPacket] {
    publishes(applied(outcome))
}

/// The actions of an acknowledgement that applied; none (and a recorded issue) otherwise.
private func applied(_ outcome: SessionState.AckOutcome, sourceLocation: SourceLocation = #_sourceLocation)
    -> [SessionState.Action]
{
    guard case .applied(let actions) = outcome else {
        Issue.record("acknowledgement not applied: \(outcome)", sourceLocation: sourceLocation)
        return []
    }
    return actions
}

private func drops(_ actions: [SessionState.Action]) -> [DropReason] {
    actions.compactMap { if case .drop(let reason) = $0 { reason } else { nil } }
}

private func connected(window: Int = 20, queue: Int = 100, receiveMaximum: Int = 65_535) -> SessionState {
    var state = SessionState(maxInflight: window, maxQueued: queue)
    _ = state.attach(version: .v5, receiveMaximum: receiveMaximum, maximumPacketSize: 268_435_460, now: 0)
    return state
}

@Suite struct SessionStateTests {
    @Test func qos1FillsTheWindowAndQueuesTheRest() {
        var state = connected(window: 2)
        var sent: [PublishPacket] = []
        for index in 0..<5 {
            sent += publishes(state.enqueue(outbound("m\(index)"), now: 0))
        }
        #expect(sent.map(\.topic) == ["m0", "m1"])
        #expect(state.queue.count == 3)
        let next = publishes(state.pubAck(sent[0].packetIdentifier ?? 0, now: 0))
        #expect(next.map(\.topic) == ["m2"])
        #expect(state.inFlight.count == 2)
    }

    @Test func clientReceiveMaximumNarrowsTheWindow() {
        var state = connected(window: 20, receiveMaximum: 1)
        let first = publishes(state.enqueue(outbound("a"), now: 0))
        let second = publishes(state.enqueue(outbound("b"), now: 0))
        #expect(first.count == 1)
        #expect(second.isEmpty)
    }

    @Test func packetIdentifiersAreUniqueAmongInFlight() {
        var state = connected(window: 50)
        var identifiers: Set<UInt16> = []
        for index in 0..<50 {
            for packet in publishes(state.enqueue(outbound("m\(index)"), now: 0)) {
                let identifier = packet.packetIdentifier ?? 0
                #expect(identifier != 0)
                #expect(identifiers.insert(identifier).inserted)
            }
        }
        #expect(identifiers.count == 50)
    }

    @Test func acknowledgingAnUnknownIdentifierChangesNothing() {
        var state = connected(window: 1)
        _ = state.enqueue(outbound("a"), now: 0)
        guard case .unknownIdentifier = state.pubAck(999, now: 0) else {
            Issue.record("PUBACK for an unknown identifier applied")
            return
        }
        guard case .unknownIdentifier = state.pubComp(999, now: 0),
            case .unknownIdentifier = state.pubRec(999, reasonCode: .success, now: 0)
        else {
            Issue.record("PUBREC or PUBCOMP for an unknown identifier applied")
            return
        }
        #expect(state.inFlight.count == 1)
    }

    @Test func qos0IsSentAtOnceWhenConnectedAndDroppedWhenNot() {
        var state = connected(window: 1)
        _ = state.enqueue(outbound("held", qos: .atLeastOnce), now: 0)
        let sent = publishes(state.enqueue(outbound("fast", qos: .atMostOnce), now: 0))
        #expect(sent.map(\.topic) == ["fast"])
        #expect(sent.first?.packetIdentifier == nil)

        state.detach()
        let result2 = state.enqueue(outbound("lost", qos: .atMostOnce), now: 0)
        #expect(drops(result2) == [.offlineQoS0])
    }

    @Test func offlineQoS1IsQueuedAndSentOnAttach() {
        var state = SessionState(maxInflight: 10, maxQueued: 10)
        let result3 = state.enqueue(outbound("a"), now: 0)
        #expect(result3.isEmpty)
        let result4 = state.enqueue(outbound("b"), now: 0)
        #expect(result4.isEmpty)
        let resent = publishes(
            state.attach(version: .v311, receiveMaximum: 65_535, maximumPacketSize: 268_435_460, now: 0))
        #expect(resent.map(\.topic) == ["a", "b"])
        #expect(resent.allSatisfy { !$0.dup })
    }

    @Test func unacknowledgedMessagesAreResentWithDupAfterReconnect() {
        var state = connected(window: 5)
        let first = publishes(state.enqueue(outbound("a"), now: 0))
        state.detach()
        let again = publishes(
            state.attach(version: .v5, receiveMaximum: 65_535, maximumPacketSize: 268_435_460, now: 0))
        #expect(again.count == 1)
        #expect(again.first?.dup == true)
        #expect(again.first?.packetIdentifier == first.first?.packetIdentifier)
    }

    @Test func queueBoundDropsAndCounts() {
        var state = SessionState(maxInflight: 1, maxQueued: 2)
        _ = state.enqueue(outbound("a"), now: 0)
        _ = state.enqueue(outbound("b"), now: 0)
        let result5 = state.enqueue(outbound("c"), now: 0)
        #expect(drops(result5) == [.queueFull])
        #expect(state.queue.count == 2)
    }

    @Test func zeroMaxQueuedMeansUnbounded() {
        var state = SessionState(maxInflight: 1, maxQueued: 0)
        for index in 0..<5000 {
            let result6 = state.enqueue(outbound("m\(index)"), now: 0)
            #expect(result6.isEmpty)
        }
        #expect(state.queue.count == 5000)
    }

    @Test func expiredMessagesAreDroppedAndRemainingExpiryIsSent() {
        var state = SessionState(maxInflight: 10, maxQueued: 10)
        _ = state.enqueue(outbound("short", expiry: 5, receivedAt: 0), now: 0)
        _ = state.enqueue(outbound("long", expiry: 60, receivedAt: 0), now: 0)
        let actions = state.attach(
            version: .v5, receiveMaximum: 65_535, maximumPacketSize: 268_435_460, now: 6 * second)
        #expect(drops(actions) == [.expired])
        let sent = publishes(actions)
        #expect(sent.map(\.topic) == ["long"])
        #expect(sent.first?.properties.messageExpiryInterval == 54)
    }

    @Test func alreadyExpiredMessageIsNotQueued() {
        var state = connected()
        let result7 = state.enqueue(outbound("x", expiry: 1, receivedAt: 0), now: 2 * second)
        #expect(drops(result7) == [.expired])
    }

    @Test func qos2HandshakeReleasesTheSlotOnPubComp() {
        var state = connected(window: 1)
        let sent = publishes(state.enqueue(outbound("a", qos: .exactlyOnce), now: 0))
        let identifier = sent.first?.packetIdentifier ?? 0
        _ = state.enqueue(outbound("b", qos: .exactlyOnce), now: 0)
        let rel = applied(state.pubRec(identifier, reasonCode: .success, now: 0))
        guard case .pubRel(let released)? = rel.first else {
            Issue.record("expected PUBREL")
            return
        }
        #expect(released == identifier)
        let next = publishes(state.pubComp(identifier, now: 0))
        #expect(next.map(\.topic) == ["b"])
    }

    @Test func pubRelIsResentAfterReconnect() {
        var state = connected(window: 1)
        let identifier = publishes(state.enqueue(outbound("a", qos: .exactlyOnce), now: 0)).first?.packetIdentifier ?? 0
        _ = state.pubRec(identifier, reasonCode: .success, now: 0)
        state.detach()
        let actions = state.attach(version: .v5, receiveMaximum: 65_535, maximumPacketSize: 268_435_460, now: 0)
        guard case .pubRel(let again)? = actions.first else {
            Issue.record("expected PUBREL on reconnect")
            return
        }
        #expect(again == identifier)
        #expect(publishes(actions).isEmpty)
    }

    @Test func pubRecWithErrorEndsTheFlow() {
        var state = connected(window: 1)
        let identifier = publishes(state.enqueue(outbound("a", qos: .exactlyOnce), now: 0)).first?.packetIdentifier ?? 0
        _ = state.enqueue(outbound("b", qos: .exactlyOnce), now: 0)
        let next = publishes(state.pubRec(identifier, reasonCode: .quotaExceeded, now: 0))
        #expect(next.map(\.topic) == ["b"])
    }

    @Test func inboundQoS2DuplicatesAreDetectedUntilReleased() {
        var state = connected()
        #expect(state.receiveQoS2(7) == .new)
        #expect(state.receiveQoS2(7) == .duplicateRouting)
        state.inboundStored(7)
        #expect(state.receiveQoS2(7) == .duplicateStored)
        let released = state.release(7)
        let releasedAgain = state.release(7)
        #expect(released)
        #expect(!releasedAgain)
        #expect(state.receiveQoS2(7) == .new)
    }

    @Test func aFailedInboundQoS2WriteFreesItsIdentifier() {
        var state = connected()
        #expect(state.receiveQoS2(9) == .new)
        state.inboundFailed(9)
        // The client's resend is routed as new, not acknowledged without being kept.
        #expect(state.receiveQoS2(9) == .new)
        state.inboundStored(9)
        // A kept message's identifier is not freed by a late failure of another write.
        state.inboundFailed(9)
        #expect(state.receiveQoS2(9) == .duplicateStored)
    }

    @Test func restoredInboundIdentifiersAreDuplicates() {
        var state = SessionState(maxInflight: 5, maxQueued: 5)
        state.restoreInbound([3, 4])
        #expect(state.receiveQoS2(3) == .duplicateStored)
        #expect(state.receiveQoS2(5) == .new)
    }

    @Test func theQueueIsBoundedByBytes() {
        var state = SessionState(maxInflight: 1, maxQueued: 100, maxQueuedBytes: 30)
        _ = state.attach(version: .v5, receiveMaximum: 65_535, maximumPacketSize: 268_435_460, now: 0)
        // "q/n" and a 10-byte payload: 13 bytes each; the first goes in flight at once.
        for index in 0..<5 {
            let message = OutboundMessage(
                message: Message(
                    topic: "q/\(index)", payload: ByteBuffer(bytes: [UInt8](repeating: 1, count: 10)),
                    qos: .atLeastOnce, principal: .uplink),
                qos: .atLeastOnce, retain: false, subscriptionIdentifiers: [], enqueuedAt: 0)
            _ = state.enqueue(message, now: 0)
        }
        #expect(state.inFlight.count == 1)
        #expect(state.queue.count == 2)
        #expect(state.queuedBytes == 26)
        _ = state.pubAck(state.inFlight.first?.packetIdentifier ?? 0, now: 0)
        #expect(state.queue.count == 1)
        #expect(state.queuedBytes == 13)
    }

    @Test func purgeDropsWhatMayNoLongerBeRead() {
        var state = connected(window: 2, queue: 10)
        func outbound(_ topic: String) -> OutboundMessage {
            OutboundMessage(
                message: Message(topic: topic, payload: ByteBuffer(string: "x"), qos: .atLeastOnce, principal: .uplink),
                qos: .atLeastOnce, retain: false, subscriptionIdentifiers: [], enqueuedAt: 0, storeID: 1)
        }
        for topic in ["secret/1", "a/1", "a/2", "secret/2"] { _ = state.enqueue(outbound(topic), now: 0) }
        #expect(state.inFlight.map(\.message.message.topic) == ["secret/1", "a/1"])
        // While connected, what was sent already stays in flight; the queue is purged.
        var actions = state.purge(where: { $0.message.topic.hasPrefix("secret/") }, now: 0)
        #expect(state.queue.map(\.message.topic) == ["a/2"])
        #expect(state.inFlight.count == 2)
        // Offline, unacknowledged messages in flight go too: they would be resent on reconnect.
        state.detach()
        actions += state.purge(where: { $0.message.topic.hasPrefix("secret/") }, now: 0)
        #expect(state.inFlight.map(\.message.message.topic) == ["a/1"])
        #expect(actions.filter { if case .drop(.notAuthorized) = $0 { true } else { false } }.count == 2)
        #expect(actions.filter { if case .forget = $0 { true } else { false } }.count == 2)
    }

    @Test func messagesTooLargeForTheClientAreDiscarded() {
        var state = SessionState(maxInflight: 5, maxQueued: 5)
        _ = state.attach(version: .v5, receiveMaximum: 65_535, maximumPacketSize: 64, now: 0)
        var big = outbound("big")
        big.message.payload = ByteBuffer(repeating: 0x41, count: 200)
        let result8 = state.enqueue(big, now: 0)
        #expect(drops(result8) == [.tooLargeForClient])
        #expect(state.inFlight.isEmpty)
        let result9 = state.enqueue(outbound("small"), now: 0)
        #expect(publishes(result9).count == 1)
    }
}

/// Acknowledgements of the wrong type for a flow, and what recovery legitimately sends.
@Suite struct AcknowledgementTypeTests {
    private func inFlight(_ qos: QoS) -> (SessionState, UInt16) {
        var state = connected(window: 2)
        let sent = publishes(state.enqueue(outbound("a", qos: qos), now: 0))
        _ = state.enqueue(outbound("b", qos: qos), now: 0)
        return (state, sent.first?.packetIdentifier ?? 0)
    }

    private func isUnexpected(_ outcome: SessionState.AckOutcome, awaiting phase: SessionState.Phase) -> Bool {
        if case .unexpected(awaiting: phase) = outcome { return true }
        return false
    }

    @Test func pubRecAndPubCompForQoS1AreUnexpected() {
        var (state, identifier) = inFlight(.atLeastOnce)
        #expect(isUnexpected(state.pubRec(identifier, reasonCode: .success, now: 0), awaiting: .awaitingPubAck))
        #expect(
            isUnexpected(state.pubRec(identifier, reasonCode: .unspecifiedError, now: 0), awaiting: .awaitingPubAck))
        #expect(isUnexpected(state.pubComp(identifier, now: 0), awaiting: .awaitingPubAck))
        // Nothing changed: the PUBACK still completes the flow and the next message goes out.
        #expect(publishes(state.pubAck(identifier, now: 0)).isEmpty)
        #expect(state.inFlight.map(\.message.message.topic) == ["b"])
    }

    @Test func pubAckForQoS2IsUnexpectedBeforeAndAfterPubRel() {
        var (state, identifier) = inFlight(.exactlyOnce)
        #expect(isUnexpected(state.pubAck(identifier, now: 0), awaiting: .awaitingPubRec))
        _ = state.pubRec(identifier, reasonCode: .success, now: 0)
        #expect(isUnexpected(state.pubAck(identifier, now: 0), awaiting: .awaitingPubComp))
        #expect(state.inFlight.first?.phase == .awaitingPubComp)
    }

    @Test func pubCompBeforePubRelIsUnexpected() {
        var (state, identifier) = inFlight(.exactlyOnce)
        #expect(isUnexpected(state.pubComp(identifier, now: 0), awaiting: .awaitingPubRec))
        #expect(state.inFlight.first?.phase == .awaitingPubRec)
    }

    @Test func repeatedPubRecGetsItsPubRelAgain() {
        var (state, identifier) = inFlight(.exactlyOnce)
        _ = state.pubRec(identifier, reasonCode: .success, now: 0)
        guard case .applied(let actions) = state.pubRec(identifier, reasonCode: .success, now: 0),
            case .pubRel(let again)? = actions.first, actions.count == 1
        else {
            Issue.record("a repeated PUBREC should be answered by PUBREL alone")
            return
        }
        #expect(again == identifier)
        #expect(
            isUnexpected(state.pubRec(identifier, reasonCode: .unspecifiedError, now: 0), awaiting: .awaitingPubComp))
        #expect(state.inFlight.first?.phase == .awaitingPubComp)
    }

    @Test func acknowledgementsOfAnEndedFlowAreUnknownNotUnexpected() {
        var (state, identifier) = inFlight(.atLeastOnce)
        _ = state.pubAck(identifier, now: 0)
        guard case .unknownIdentifier = state.pubAck(identifier, now: 0),
            case .unknownIdentifier = state.pubRec(identifier, reasonCode: .success, now: 0),
            case .unknownIdentifier = state.pubComp(identifier, now: 0)
        else {
            Issue.record("an acknowledgement after the flow ended is recovery, not an error")
            return
        }
    }
}
