import MQTTCodec
import NIOCore
import PropertyBased
import Testing
import WharfCore

@testable import Uplink

/// Link parameters with the operator's limits of one endpoint applied.
func limitedLink(
    _ limits: UplinkLimits,
    endpoint: String = "cloud-a:8883",
    sessionPresent: Bool = false,
    maximumQoS: QoS = .exactlyOnce
) -> LinkParameters {
    link(sessionPresent: sessionPresent, maximumQoS: maximumQoS).limited(by: limits, endpoint: endpoint)
}

func payloadLimit(_ bytes: Int, keyPath: String = "uplink.limits.max_payload_bytes") -> UplinkLimits {
    UplinkLimits(maxPayloadBytes: UplinkLimit(bytes, keyPath: keyPath))
}

func sized(_ sequence: Int64, bytes: Int, topic: String = "site/t") -> UplinkItem {
    UplinkItem(sequence: sequence, topic: topic, payload: ByteBuffer(repeating: 0x41, count: bytes))
}

@Suite struct InflightWindowLimitsTests {
    @Test func aPayloadAboveTheLimitIsDeadLetteredWithTheLimitAndTheEndpointNamed() {
        var window = InflightWindow(maxInflight: 10)
        window.connected(limitedLink(payloadLimit(131_072)))
        let batch = window.admit([sized(1, bytes: 131_072), sized(2, bytes: 300_000), sized(3, bytes: 10)], now: 0)
        #expect(batch.publishes.map(\.payload.readableBytes) == [131_072, 10])
        #expect(batch.finished.isEmpty && batch.dropped.isEmpty)
        #expect(batch.deadLettered.map(\.sequence) == [2])
        let refusal = batch.deadLettered.first?.refusal
        #expect(refusal?.reasonCode == 0x95)
        #expect(refusal?.limit == "max_payload_bytes")
        #expect(
            refusal?.reasonString == "payload 300000 bytes above uplink.limits.max_payload_bytes 131072 of cloud-a:8883"
        )
        #expect(window.lastRead == 3)
        #expect(window.unacknowledged == [1, 3])
    }

    @Test func aTopicDeeperThanTheLimitIsDeadLetteredAsTopicNameInvalid() {
        var window = InflightWindow(maxInflight: 10)
        let limits = UplinkLimits(maxTopicLevels: UplinkLimit(3, keyPath: "uplink.endpoints[1].max_topic_levels"))
        window.connected(limitedLink(limits, endpoint: "cloud-b:8883"))
        let batch = window.admit(
            [
                record(1, topic: "a/b/c"), record(2, topic: "a/b/c/d"), record(3, topic: "a//"),
                record(4, topic: "a///"),
            ],
            now: 0)
        #expect(batch.sequences == [1, 3])
        #expect(batch.deadLettered.map(\.sequence) == [2, 4])
        #expect(batch.deadLettered.map(\.refusal.reasonCode) == [0x90, 0x90])
        #expect(
            batch.deadLettered.first?.refusal.reasonString
                == "topic of 4 levels above uplink.endpoints[1].max_topic_levels 3 of cloud-b:8883")
    }

    @Test func qos0RecordsAreDeadLetteredToo() {
        var window = InflightWindow(maxInflight: 10)
        window.connected(limitedLink(payloadLimit(4)))
        let small = UplinkItem(sequence: 1, topic: "t", payload: ByteBuffer(string: "ok"), qos: .atMostOnce)
        let large = UplinkItem(sequence: 2, topic: "t", payload: ByteBuffer(string: "too long"), qos: .atMostOnce)
        let batch = window.admit([small, large], now: 0)
        #expect(batch.finished == [1])
        #expect(batch.deadLettered.map(\.sequence) == [2])
    }

    @Test func anExpiredRecordIsStillDroppedNotDeadLettered() {
        var window = InflightWindow(maxInflight: 10)
        window.connected(limitedLink(payloadLimit(1)))
        let expired = UplinkItem(
            sequence: 1, topic: "t", payload: ByteBuffer(string: "large"), qos: .atLeastOnce, expiresAt: 5)
        let batch = window.admit([expired], now: 10)
        #expect(batch.finished == [1] && batch.dropped.map(\.reason) == [.expired] && batch.deadLettered.isEmpty)
    }

    /// A record is judged against the endpoint it is about to be sent to: one sent to an endpoint
    /// without the limit and resent after a failover to one with it is dead-lettered there.
    @Test func aResendAfterFailoverIsJudgedByTheNewEndpointsLimits() {
        var window = InflightWindow(maxInflight: 10)
        window.connected(limitedLink(UplinkLimits(), endpoint: "cloud-a:8883"))
        let first = window.admit([sized(1, bytes: 10), sized(2, bytes: 500), sized(3, bytes: 10)], now: 0)
        #expect(first.sequences.count == 3 && first.deadLettered.isEmpty)
        window.disconnected()
        window.connected(limitedLink(payloadLimit(100), endpoint: "cloud-b:8883", sessionPresent: true))
        let resent = window.takeResends(now: 0)
        #expect(resent.publishes.count == 2)
        #expect(resent.deadLettered.map(\.sequence) == [2])
        #expect(resent.deadLettered.first?.refusal.reasonString.hasSuffix("of cloud-b:8883") == true)
        #expect(window.unacknowledged == [1, 3])
        #expect(window.inFlight == 2)
    }

    @Test func maxInflightLowersTheWindowBelowOursAndTheReceiveMaximum() {
        var window = InflightWindow(maxInflight: 100)
        let limits = UplinkLimits(maxInflight: UplinkLimit(4, keyPath: "uplink.limits.max_inflight"))
        window.connected(limitedLink(limits))
        #expect(window.capacity == 4)
        #expect(window.admit(records(1...10), now: 0).sequences == [1, 2, 3, 4])
        // The lower of the limit and the server's Receive Maximum.
        var narrow = link(receiveMaximum: 2).limited(by: limits, endpoint: "cloud-a:8883")
        window.disconnected()
        window.connected(narrow)
        #expect(window.capacity == 2)
        narrow = link().limited(by: UplinkLimits(), endpoint: "cloud-a:8883")
        window.disconnected()
        window.connected(narrow)
        #expect(window.capacity == 100)
    }

    @Test(arguments: [
        (QoS.atMostOnce, QoS.exactlyOnce, QoS.atMostOnce, true),
        (.atLeastOnce, .exactlyOnce, .atLeastOnce, true),
        (.exactlyOnce, .atLeastOnce, .atLeastOnce, false),
        (.atLeastOnce, .atMostOnce, .atMostOnce, false),
    ])
    func maxQoSIsTheLowerOfTheLimitAndTheConnAck(local: QoS, granted: QoS, effective: QoS, isLocal: Bool) {
        let limits = UplinkLimits(maxQoS: UplinkLimit(local, keyPath: "uplink.limits.max_qos"))
        let parameters = limitedLink(limits, maximumQoS: granted)
        #expect(parameters.maximumQoS == effective)
        #expect(parameters.maximumQoSIsLocal == isLocal)
        #expect(!limitedLink(UplinkLimits(), maximumQoS: granted).maximumQoSIsLocal)
    }

    @Test func overMQTT311MaxQoSSetsTheMaximumTheServerCannotState() {
        let connect = ConnectPacket(protocolVersion: .v311, clientIdentifier: "gw", keepAlive: 30)
        let plain = LinkParameters(connect: connect, connAck: ConnAckPacket(sessionPresent: false, reasonCode: 0))
        #expect(plain.maximumQoS == .atLeastOnce)
        for qos in QoS.allCases {
            let limits = UplinkLimits(maxQoS: UplinkLimit(qos, keyPath: "uplink.limits.max_qos"))
            #expect(plain.limited(by: limits, endpoint: "rabbit-1:1883").maximumQoS == qos)
        }
    }

    @Test func maxQoS0HoldsQoS1RecordsAndLetsQoS0Through() {
        var window = InflightWindow(maxInflight: 10)
        window.connected(limitedLink(UplinkLimits(maxQoS: UplinkLimit(.atMostOnce, keyPath: "uplink.limits.max_qos"))))
        let meant = UplinkItem(sequence: 1, topic: "t", payload: ByteBuffer(string: "0"), qos: .atMostOnce)
        let batch = window.admit([meant, record(2), record(3)], now: 0)
        #expect(batch.publishes.map(\.qos) == [.atMostOnce] && batch.finished == [1])
        #expect(batch.heldByMaximumQoS)
        #expect(window.lastRead == 1)
        // Without the limit (another connection), the held records go out.
        window.disconnected()
        window.connected(link())
        #expect(window.admit([record(2), record(3)], now: 0).sequences == [2, 3])
    }

    @Test func resendsStopAtTheGivenLimit() {
        var window = InflightWindow(maxInflight: 10)
        window.connected(link())
        _ = window.admit(records(1...5), now: 0)
        window.disconnected()
        window.connected(link(sessionPresent: true))
        #expect(window.takeResends(now: 0, limit: 0).isEmpty)
        #expect(window.takeResends(now: 0, limit: 2).sequences == [1, 2])
        #expect(window.pendingResends == 3)
        #expect(window.takeResends(now: 0).sequences == [3, 4, 5])
    }

    /// Whatever the limits and records, each record read is sent, dropped or dead-lettered exactly
    /// once, and only records within the limits are sent.
    @Test func everyRecordIsSentOrDeadLetteredOnceAndWhatIsSentFitsTheLimits() async {
        let shapes = zip(Gen.int(in: 1...6), Gen.int(in: 0...40)).array(of: 1...60)
        await propertyCheck(count: 200, input: shapes, Gen.int(in: 1...5), Gen.int(in: 1...30)) {
            shapes, maxLevels, maxPayload in
            var window = InflightWindow(maxInflight: 1000)
            let limits = UplinkLimits(
                maxPayloadBytes: UplinkLimit(maxPayload, keyPath: "uplink.limits.max_payload_bytes"),
                maxTopicLevels: UplinkLimit(maxLevels, keyPath: "uplink.limits.max_topic_levels"))
            window.connected(limitedLink(limits))
            let items = shapes.enumerated().map { index, shape in
                sized(
                    Int64(index + 1), bytes: shape.1,
                    topic: Array(repeating: "l", count: shape.0).joined(separator: "/"))
            }
            let batch = window.admit(items, now: 0)
            let sent = window.unacknowledged
            let dead = batch.deadLettered.map(\.sequence)
            #expect((sent + dead).sorted() == items.map(\.sequence))
            #expect(Set(sent).isDisjoint(with: dead))
            for packet in batch.publishes {
                #expect(packet.payload.readableBytes <= maxPayload)
                #expect(TopicFilter.levelCount(packet.topic) <= maxLevels)
            }
            for (sequence, refusal) in batch.deadLettered {
                let item = items[Int(sequence) - 1]
                let tooDeep = TopicFilter.levelCount(item.topic) > maxLevels
                #expect(refusal.reasonCode == (tooDeep ? 0x90 : 0x95))
            }
        }
    }
}
