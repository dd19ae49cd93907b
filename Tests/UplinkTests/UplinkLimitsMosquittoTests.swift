import Foundation
import Logging
import MQTTCodec
import NIOCore
import Testing
import WharfCore

@testable import Uplink

/// The operator's limits on a running uplink against a real Mosquitto: records that can never fit
/// move to the dead-letter table while the rest arrive, and the publish rate makes sending wait.
@Suite(.serialized) struct UplinkLimitsMosquittoTests {
    @Test func recordsBeyondTheLimitsAreDeadLetteredAndTheRestArriveAtTheRate() async throws {
        let mosquitto = try await Mosquitto()
        try await mosquitto.start()
        let watcher = try await TestMQTTClient.connect(port: mosquitto.port, clientIdentifier: "watcher")
        try await watcher.subscribe("site/#")
        let queue = InMemoryUplinkQueue()
        var expected: [String] = []
        for sequence in 1...40 {
            switch sequence {
            case 7: queue.append(topic: "site/large", payload: ByteBuffer(repeating: 0x41, count: 200))
            case 13: queue.append(topic: "site/a/b/c", payload: ByteBuffer(string: "deep"))
            default:
                queue.append(topic: "site/data", payload: ByteBuffer(string: "\(sequence)"))
                expected.append("\(sequence)")
            }
        }
        var configuration = testConfiguration(port: mosquitto.port)
        configuration.endpoints[0].limits = UplinkLimits(
            maxPayloadBytes: UplinkLimit(100, keyPath: "uplink.limits.max_payload_bytes"),
            maxTopicLevels: UplinkLimit(3, keyPath: "uplink.limits.max_topic_levels"),
            maxPublishRate: UplinkLimit(40, keyPath: "uplink.limits.max_publish_rate"))
        let harness = UplinkHarness(configuration, queue: queue)
        let endpoint = "127.0.0.1:\(mosquitto.port)"

        try await harness.running {
            await harness.waitUntil("38 acknowledged", timeout: .seconds(30)) { $0.acknowledged >= 38 }
            try await watcher.waitFor("every record within the limits", timeout: .seconds(10)) {
                $0.payloads(topicPrefix: "site/").count >= 38
            }
            await harness.waitUntilQueueEmpty(queue)
        }

        #expect(watcher.inbox.payloads(topicPrefix: "site/") == expected)
        let letters = queue.deadLetters.map(\.letter)
        #expect(letters.map(\.sequence) == [7, 13])
        #expect(letters.map(\.reasonCode) == [0x95, 0x90])
        #expect(
            letters.map(\.reasonString) == [
                "payload 200 bytes above uplink.limits.max_payload_bytes 100 of \(endpoint)",
                "topic of 4 levels above uplink.limits.max_topic_levels 3 of \(endpoint)",
            ])
        let status = harness.service.status
        #expect(status.limits.deadLettered == ["max_payload_bytes": 1, "max_topic_levels": 1])
        #expect(status.limits.deadLetteredByReason == [0x95: 1, 0x90: 1])
        #expect(status.dropped == 0 && status.rejected == 0 && status.published == 38)
        // 38 records with a burst of 4: sending had to wait for tokens.
        #expect(status.limits.rateWaits > 0)
        let logged = harness.logs.all.filter { $0.metadata["uplink.error"] == "local-limit" }
        #expect(logged.map { $0.metadata["uplink.limit"] } == ["max_payload_bytes", "max_topic_levels"])
        await watcher.disconnect()
        await mosquitto.stop()
    }

    @Test func aRecordThatCannotBeEncodedIsDeadLetteredNotDropped() async throws {
        let mosquitto = try await Mosquitto()
        try await mosquitto.start()
        let queue = InMemoryUplinkQueue()
        queue.append(topic: "site/data", payload: ByteBuffer(string: "1"))
        // A user property longer than an MQTT string can be (65535 bytes): no PUBLISH can carry it.
        var properties = MessageProperties()
        properties.userProperties = [UserProperty("k", String(repeating: "v", count: 70_000))]
        queue.append(topic: "site/data", payload: ByteBuffer(string: "2"), properties: properties)
        queue.append(topic: "site/data", payload: ByteBuffer(string: "3"))
        let harness = UplinkHarness(testConfiguration(port: mosquitto.port), queue: queue)
        try await harness.running {
            await harness.waitUntil("2 acknowledged", timeout: .seconds(30)) { $0.acknowledged >= 2 }
            await harness.waitUntilQueueEmpty(queue)
        }
        let letters = queue.deadLetters.map(\.letter)
        #expect(letters.map(\.sequence) == [2])
        #expect(letters.map(\.reasonCode) == [0x83])
        #expect(letters.first?.reasonString?.hasPrefix("cannot be encoded as an MQTT PUBLISH") == true)
        #expect(harness.service.status.limits.deadLettered == ["encoding": 1])
        await mosquitto.stop()
    }
}
