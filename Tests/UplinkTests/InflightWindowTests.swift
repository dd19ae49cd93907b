import MQTTCodec
import NIOCore
import PropertyBased
import Testing
import WharfCore

@testable import Uplink

/// A record with a payload naming its sequence.
func record(
    _ sequence: Int64,
    topic: String = "site/t",
    qos: QoS = .atLeastOnce,
    retain: Bool = false,
    expiresAt: Int64? = nil
) -> UplinkItem {
    UplinkItem(
        sequence: sequence, topic: topic, payload: ByteBuffer(string: "\(sequence)"), qos: qos, retain: retain,
        expiresAt: expiresAt)
}

func records(_ range: ClosedRange<Int64>) -> [UplinkItem] {
    range.map { record($0) }
}

/// Link parameters as a CONNACK would set them.
func link(
    version: MQTTProtocolVersion = .v5,
    sessionPresent: Bool = false,
    receiveMaximum: Int = 65_535,
    maximumPacketSize: Int = MQTTPacket.maximumSize,
    maximumQoS: QoS = .exactlyOnce,
    retainAvailable: Bool = true
) -> LinkParameters {
    var parameters = LinkParameters(version: version, keepAlive: 60, clientIdentifier: "gw")
    parameters.sessionPresent = sessionPresent
    parameters.receiveMaximum = receiveMaximum
    parameters.maximumPacketSize = maximumPacketSize
    parameters.maximumQoS = maximumQoS
    parameters.retainAvailable = retainAvailable
    return parameters
}

extension InflightWindow.Batch {
    var sequences: [Int64] { publishes.map { Int64(String(buffer: $0.payload)) ?? -1 } }
    var identifiers: [UInt16] { publishes.compactMap(\.packetIdentifier) }
}

@Suite struct InflightWindowTests {
    @Test func nothingIsSentBeforeTheFirstConnection() {
        var window = InflightWindow(maxInflight: 10)
        #expect(window.readLimit(batch: 256) == 0)
        #expect(window.admit(records(1...3), now: 0).isEmpty)
        #expect(window.lastRead == 0)
    }

    @Test func admitsInOrderUpToTheWindow() {
        var window = InflightWindow(maxInflight: 3)
        window.connected(link())
        #expect(window.readLimit(batch: 256) == 3)
        let batch = window.admit(records(1...5), now: 0)
        #expect(batch.sequences == [1, 2, 3])
        #expect(batch.identifiers == [1, 2, 3])
        #expect(batch.publishes.allSatisfy { $0.qos == .atLeastOnce && !$0.dup })
        #expect(window.inFlight == 3)
        #expect(window.lastRead == 3)
        #expect(window.readLimit(batch: 256) == 0)
        #expect(window.unacknowledged == [1, 2, 3])
    }

    @Test func receiveMaximumLowersTheWindow() {
        var window = InflightWindow(maxInflight: 100)
        window.connected(link(receiveMaximum: 10))
        #expect(window.capacity == 10)
        #expect(window.readLimit(batch: 256) == 10)
        #expect(window.admit(records(1...20), now: 0).publishes.count == 10)
        window.disconnected()
        window.connected(link(receiveMaximum: 65_535))
        #expect(window.capacity == 100)
    }

    @Test func acknowledgementsMayArriveOutOfOrder() {
        var window = InflightWindow(maxInflight: 10)
        window.connected(link())
        let identifiers = window.admit(records(1...5), now: 0).identifiers
        #expect(window.acknowledge(identifiers[2]) == .record(3))
        #expect(window.acknowledge(identifiers[0]) == .record(1))
        #expect(window.acknowledge(identifiers[4]) == .record(5))
        #expect(window.acknowledge(identifiers[4]) == .unknown)
        #expect(window.acknowledge(999) == .unknown)
        #expect(window.inFlight == 2)
        #expect(window.unacknowledged == [2, 4])
    }

    @Test func refillsWaitForAQuarterOfTheWindow() {
        var window = InflightWindow(maxInflight: 100)
        window.connected(link())
        let identifiers = window.admit(records(1...100), now: 0).identifiers
        for identifier in identifiers.prefix(24) { _ = window.acknowledge(identifier) }
        #expect(window.readLimit(batch: 256) == 0)
        _ = window.acknowledge(identifiers[24])
        #expect(window.readLimit(batch: 256) == 25)
        #expect(window.readLimit(batch: 10) == 10)
        for identifier in identifiers.dropFirst(25) { _ = window.acknowledge(identifier) }
        #expect(window.readLimit(batch: 256) == 100)
    }

    @Test func reconnectResendsUnacknowledgedInOriginalOrderWithDup() {
        var window = InflightWindow(maxInflight: 10)
        window.connected(link())
        let first = window.admit(records(1...5), now: 0)
        _ = window.acknowledge(first.identifiers[1])
        _ = window.acknowledge(first.identifiers[3])
        window.disconnected()
        window.connected(link(sessionPresent: true))
        #expect(window.pendingResends == 3)
        #expect(window.readLimit(batch: 256) == 0)
        #expect(window.admit(records(6...8), now: 0).isEmpty)
        let resend = window.takeResends(now: 0)
        #expect(resend.sequences == [1, 3, 5])
        #expect(resend.identifiers == [first.identifiers[0], first.identifiers[2], first.identifiers[4]])
        #expect(resend.publishes.allSatisfy { $0.dup })
        #expect(window.pendingResends == 0)
        #expect(window.admit(records(6...8), now: 0).sequences == [6, 7, 8])
    }

    @Test func resendWithoutASessionCarriesNoDup() {
        var window = InflightWindow(maxInflight: 10)
        window.connected(link())
        _ = window.admit(records(1...3), now: 0)
        window.disconnected()
        window.connected(link(sessionPresent: false))
        let resend = window.takeResends(now: 0)
        #expect(resend.sequences == [1, 2, 3])
        #expect(resend.publishes.allSatisfy { !$0.dup })
    }

    @Test func resendHonoursASmallerReceiveMaximum() {
        var window = InflightWindow(maxInflight: 10)
        window.connected(link())
        _ = window.admit(records(1...6), now: 0)
        window.disconnected()
        window.connected(link(receiveMaximum: 2))
        let first = window.takeResends(now: 0)
        #expect(first.sequences == [1, 2])
        #expect(window.takeResends(now: 0).isEmpty)
        _ = window.acknowledge(first.identifiers[1])
        #expect(window.takeResends(now: 0).sequences == [3])
        #expect(window.readLimit(batch: 256) == 0)
    }

    @Test func repeatedReconnectsKeepOneOrder() {
        var window = InflightWindow(maxInflight: 4)
        window.connected(link())
        _ = window.admit(records(1...4), now: 0)
        window.disconnected()
        window.connected(link(receiveMaximum: 1))
        #expect(window.takeResends(now: 0).sequences == [1])
        window.disconnected()
        window.connected(link(sessionPresent: true))
        #expect(window.takeResends(now: 0).sequences == [1, 2, 3, 4])
    }

    @Test func acknowledgementOfARecordAwaitingResendRemovesIt() {
        var window = InflightWindow(maxInflight: 10)
        window.connected(link())
        let identifiers = window.admit(records(1...3), now: 0).identifiers
        window.disconnected()
        window.connected(link())
        #expect(window.acknowledge(identifiers[1]) == .record(2))
        #expect(window.inFlight == 0)
        #expect(window.takeResends(now: 0).sequences == [1, 3])
        #expect(window.inFlight == 2)
    }

    @Test func qos0RecordsFinishWhenSentAndTakeNoSlot() {
        var window = InflightWindow(maxInflight: 1)
        window.connected(link())
        let batch = window.admit([record(1, qos: .atMostOnce), record(2), record(3, qos: .atMostOnce)], now: 0)
        #expect(batch.sequences == [1, 2, 3])
        #expect(batch.publishes.map(\.qos) == [.atMostOnce, .atLeastOnce, .atMostOnce])
        #expect(batch.finished == [1, 3])
        #expect(window.inFlight == 1)
        #expect(window.unacknowledged == [2])
    }

    @Test func qos2IsSentAsQoS1WhereTheServerGrants1AndAServerMaximumOf0HoldsQoS1Records() {
        var window = InflightWindow(maxInflight: 10)
        window.connected(link(maximumQoS: .atLeastOnce))
        #expect(window.admit([record(1, qos: .exactlyOnce)], now: 0).publishes.map(\.qos) == [.atLeastOnce])
        window.disconnected()
        window.connected(link(maximumQoS: .atMostOnce))
        // Neither the unacknowledged record nor a new QoS 1 one goes out downgraded to QoS 0.
        let resends = window.takeResends(now: 0)
        #expect(resends.publishes.isEmpty && resends.finished.isEmpty && resends.heldByMaximumQoS)
        window.disconnected()
        window.connected(link())
        #expect(window.takeResends(now: 0).sequences == [1])
        _ = window.acknowledge(1)
        window.disconnected()
        window.connected(link(maximumQoS: .atMostOnce))
        let held = window.admit([record(2), record(3, qos: .atMostOnce)], now: 0)
        #expect(held.publishes.isEmpty && held.finished.isEmpty && held.heldByMaximumQoS)
        #expect(window.lastRead == 1)
        // A record meant for QoS 0 goes at QoS 0.
        let meant = window.admit([record(2, qos: .atMostOnce)], now: 0)
        #expect(meant.publishes.map(\.qos) == [.atMostOnce] && meant.finished == [2])
    }

    @Test func expiredRecordsAreDroppedAndTheRestCarryTheirRemainingLifetime() {
        var window = InflightWindow(maxInflight: 10)
        window.connected(link())
        let batch = window.admit(
            [record(1, expiresAt: 10_000), record(2, expiresAt: 10_001), record(3, expiresAt: 12_500), record(4)],
            now: 10_000
        )
        #expect(batch.sequences == [2, 3, 4])
        #expect(batch.publishes.map(\.properties.messageExpiryInterval) == [1, 3, nil])
        #expect(batch.finished == [1])
        #expect(batch.dropped.map(\.reason) == [.expired])
        #expect(window.lastRead == 4)
    }

    @Test func mqtt311CarriesNoProperties() {
        var window = InflightWindow(maxInflight: 10)
        window.connected(link(version: .v311))
        let batch = window.admit([record(1, expiresAt: 50_000)], now: 0)
        #expect(batch.publishes.first?.properties.isEmpty == true)
    }

    @Test func recordsTooLargeForTheServerAreDeadLettered() {
        var window = InflightWindow(maxInflight: 10)
        var parameters = link(maximumPacketSize: 20)
        parameters.endpoint = "cloud-a:8883"
        window.connected(parameters)
        let big = UplinkItem(sequence: 2, topic: "t", payload: ByteBuffer(repeating: 7, count: 100))
        let batch = window.admit([record(1, topic: "t"), big, record(3, topic: "t")], now: 0)
        #expect(batch.sequences == [1, 3])
        #expect(batch.dropped.isEmpty && batch.finished.isEmpty)
        #expect(batch.deadLettered.map(\.sequence) == [2])
        #expect(batch.deadLettered.map(\.refusal.reasonCode) == [0x95])
        #expect(batch.deadLettered.map(\.refusal.limit) == ["maximum_packet_size"])
        #expect(
            batch.deadLettered.first?.refusal.reasonString
                == "PUBLISH of 108 bytes above the Maximum Packet Size 20 of cloud-a:8883 (its CONNACK)")
        #expect(window.inFlight == 2)
    }

    @Test func invalidTopicsAreDeadLettered() {
        var window = InflightWindow(maxInflight: 10)
        window.connected(link())
        let batch = window.admit([record(1, topic: "a/+/b"), record(2, topic: ""), record(3)], now: 0)
        #expect(batch.sequences == [3])
        #expect(batch.dropped.isEmpty && batch.finished.isEmpty)
        #expect(batch.deadLettered.map(\.sequence) == [1, 2])
        #expect(batch.deadLettered.map(\.refusal.reasonCode) == [0x90, 0x90])
        #expect(batch.deadLettered.map(\.refusal.limit) == ["topic_name", "topic_name"])
        #expect(batch.deadLettered.first?.refusal.reasonString.contains("'+' or '#'") == true)
        #expect(window.lastRead == 3)
    }

    @Test func retainIsClearedWhenTheServerHasNoRetain() {
        var window = InflightWindow(maxInflight: 10)
        window.connected(link(retainAvailable: false))
        #expect(window.admit([record(1, retain: true)], now: 0).publishes.first?.retain == false)
    }

    @Test func recordsAlreadyReadAreIgnored() {
        var window = InflightWindow(maxInflight: 10, lastRead: 5)
        window.connected(link())
        #expect(window.admit(records(4...7), now: 0).sequences == [6, 7])
        #expect(window.lastRead == 7)
    }

    @Test func statusPublishesCountAgainstTheWindowAndAreNotResent() {
        var window = InflightWindow(maxInflight: 2)
        #expect(window.reserveStatus() == nil)
        window.connected(link())
        let status = window.reserveStatus()
        #expect(status != nil)
        #expect(window.inFlight == 1)
        let subscription = window.reserveSubscription()
        #expect(subscription != nil && subscription != status)
        #expect(window.inFlight == 1)
        #expect(window.admit(records(1...3), now: 0).sequences == [1])
        #expect(window.acknowledge(status ?? 0) == .status)
        let completed = window.completeSubscription(subscription ?? 0)
        let completedAgain = window.completeSubscription(subscription ?? 0)
        #expect(completed && !completedAgain)
        _ = window.reserveStatus()
        window.disconnected()
        window.connected(link())
        #expect(window.pendingResends == 1)
        #expect(window.takeResends(now: 0).sequences == [1])
    }

    @Test func abandonedRecordsLeaveTheWindow() {
        var window = InflightWindow(maxInflight: 2)
        window.connected(link())
        let identifiers = window.admit(records(1...2), now: 0).identifiers
        #expect(window.abandon(identifiers[0]) == 1)
        #expect(window.abandon(identifiers[0]) == nil)
        #expect(window.inFlight == 1)
    }

    @Test func packetIdentifiersWrapAndSkipThoseInUse() {
        var window = InflightWindow(maxInflight: 3)
        window.connected(link())
        // Record 1 stays outstanding for the whole run; its identifier must never be reused.
        let held = window.admit([record(1)], now: 0).identifiers[0]
        var seen = Set<UInt16>()
        for sequence in Int64(2)...70_002 {
            let batch = window.admit([record(sequence)], now: 0)
            let identifier = batch.identifiers[0]
            #expect(identifier != 0 && identifier != held)
            seen.insert(identifier)
            _ = window.acknowledge(identifier)
        }
        // Every identifier but the held one and those kept for QoS 2.
        #expect(seen.count == InflightWindow.otherIdentifiers.count - 1)
        #expect(seen.allSatisfy { InflightWindow.otherIdentifiers.contains($0) })
    }

    @Test func randomAcknowledgementsAndReconnectsDeliverEveryRecordOnceInOrder() async {
        // Each step: 0 read a batch, 1 acknowledge a random outstanding record, 2 reconnect.
        let steps = zip(Gen.int(in: 0...2), Gen.int(in: 0...1000), Gen.int(in: 1...8)).array(of: 1...200)
        await propertyCheck(count: 200, input: steps) { steps in
            var window = InflightWindow(maxInflight: 5)
            window.connected(link())
            var sent: [UInt16: Int64] = [:]
            var acknowledged: [Int64] = []
            var transmissions: [Int64] = []
            var next: Int64 = 1
            func send(_ batch: InflightWindow.Batch) {
                for packet in batch.publishes {
                    if let identifier = packet.packetIdentifier {
                        sent[identifier] = Int64(String(buffer: packet.payload))
                    }
                }
                transmissions.append(contentsOf: batch.sequences)
            }
            for (kind, pick, receive) in steps {
                switch kind {
                case 0:
                    send(window.takeResends(now: 0))
                    let limit = window.readLimit(batch: 4)
                    guard limit > 0 else { break }
                    let batch = window.admit(records(next...next + Int64(limit) - 1), now: 0)
                    next = window.lastRead + 1
                    send(batch)
                case 1:
                    guard !sent.isEmpty else { break }
                    let keys = sent.keys.sorted()
                    let identifier = keys[pick % keys.count]
                    sent[identifier] = nil
                    if case .record(let sequence) = window.acknowledge(identifier) { acknowledged.append(sequence) }
                default:
                    sent.removeAll()
                    window.disconnected()
                    window.connected(link(sessionPresent: pick.isMultiple(of: 2), receiveMaximum: receive))
                }
                #expect(window.inFlight <= window.capacity)
            }
            // Drain what is left on a fresh connection.
            sent.removeAll()
            window.disconnected()
            window.connected(link())
            while window.pendingResends > 0 || window.inFlight > 0 {
                send(window.takeResends(now: 0))
                for identifier in sent.keys.sorted() {
                    if case .record(let sequence) = window.acknowledge(identifier) { acknowledged.append(sequence) }
                }
                sent.removeAll()
            }
            #expect(acknowledged.sorted() == Array(1..<next))
            #expect(Set(acknowledged).count == acknowledged.count)
            // First transmissions are in sequence order; later ones are retransmissions.
            var firstSeen: [Int64] = []
            var seen = Set<Int64>()
            for sequence in transmissions where seen.insert(sequence).inserted { firstSeen.append(sequence) }
            #expect(firstSeen == Array(1..<next))
        }
    }
}
