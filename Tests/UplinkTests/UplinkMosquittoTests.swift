import Foundation
import Logging
import MQTTCodec
import NIOCore
import Testing
import WharfCore

@testable import Uplink

/// The uplink against a real Mosquitto 2 on 127.0.0.1. Serialized: each test owns a broker and
/// measures time, so they do not compete for the two cores.
@Suite(.serialized) struct UplinkMosquittoTests {
    @Test func drainsTenThousandRecordsInOrder() async throws {
        let mosquitto = try await Mosquitto()
        try await mosquitto.start()
        let watcher = try await TestMQTTClient.connect(port: mosquitto.port, clientIdentifier: "watcher")
        try await watcher.subscribe("site/#")
        let total = 10_000
        let queue = InMemoryUplinkQueue()
        for sequence in 1...total { queue.append(topic: "site/data", payload: ByteBuffer(string: "\(sequence)")) }
        let harness = UplinkHarness(testConfiguration(port: mosquitto.port), queue: queue)

        let started = ContinuousClock.now
        let (elapsed, meter) = try await harness.running {
            await harness.waitUntil("all acknowledged", timeout: .seconds(60)) { $0.acknowledged >= total }
            let elapsed = ContinuousClock.now - started
            let rate = harness.service.status.drainRatePerSecond
            try await watcher.waitFor("every message", timeout: .seconds(30)) { $0.messageCount >= total }
            await harness.waitUntilQueueEmpty(queue)
            return (elapsed, rate)
        }

        #expect(watcher.inbox.payloads() == (1...total).map { "\($0)" })
        #expect(queue.count == 0)
        let status = harness.service.status
        #expect(status.published == total)
        #expect(status.acknowledged == total)
        #expect(status.resent == 0 && status.dropped == 0 && status.rejected == 0)
        #expect(status.state == .stopped)
        #expect(status.bytesSent > total * 10)
        #expect(status.bytesReceived >= total * 4)
        print(
            "uplink drain to Mosquitto with a subscriber counting: \(total) records in \(elapsed), \(rate(total, elapsed)) msg/s (status meter \(Int(meter)) msg/s)"
        )
        await watcher.disconnect()
        await mosquitto.stop()
    }

    @Test func drainsABacklogWithNobodySubscribed() async throws {
        let mosquitto = try await Mosquitto()
        try await mosquitto.start()
        let total = 50_000
        let queue = InMemoryUplinkQueue()
        let payload = ByteBuffer(repeating: 0x2A, count: 64)
        for _ in 1...total { queue.append(topic: "site/bulk", payload: payload) }
        let harness = UplinkHarness(testConfiguration(port: mosquitto.port), queue: queue)
        let started = ContinuousClock.now
        let elapsed = try await harness.running {
            await harness.waitUntil("all acknowledged", timeout: .seconds(120)) { $0.acknowledged >= total }
            let elapsed = ContinuousClock.now - started
            await harness.waitUntilQueueEmpty(queue)
            return elapsed
        }
        #expect(queue.count == 0)
        #expect(harness.service.status.published == total)
        print(
            "uplink drain to Mosquitto, nobody subscribed: \(total) records in \(elapsed), \(rate(total, elapsed)) msg/s"
        )
        await mosquitto.stop()
    }

    @Test func liveRecordsFlowWhileABacklogDrains() async throws {
        let mosquitto = try await Mosquitto()
        try await mosquitto.start()
        let watcher = try await TestMQTTClient.connect(port: mosquitto.port, clientIdentifier: "watcher")
        try await watcher.subscribe("site/#")
        let queue = InMemoryUplinkQueue()
        for sequence in 1...5_000 { queue.append(topic: "site/backlog", payload: ByteBuffer(string: "\(sequence)")) }
        let harness = UplinkHarness(testConfiguration(port: mosquitto.port), queue: queue)
        try await harness.running {
            // Live traffic: newer records appended in bursts while the backlog goes out.
            for burst in 0..<20 {
                for index in 1...50 {
                    queue.append(topic: "site/live", payload: ByteBuffer(string: "\(5_000 + burst * 50 + index)"))
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            try await watcher.waitFor("every message", timeout: .seconds(30)) { $0.messageCount >= 6_000 }
            await harness.waitUntilQueueEmpty(queue)
        }
        #expect(watcher.inbox.payloads() == (1...6_000).map { "\($0)" })
        #expect(queue.count == 0)
        await mosquitto.stop()
    }

    @Test func speaksMQTT311() async throws {
        let mosquitto = try await Mosquitto()
        try await mosquitto.start()
        let watcher = try await TestMQTTClient.connect(
            port: mosquitto.port, clientIdentifier: "watcher", version: .v311)
        try await watcher.subscribe("site/#")
        let queue = InMemoryUplinkQueue()
        for sequence in 1...1_000 { queue.append(topic: "site/v3", payload: ByteBuffer(string: "\(sequence)")) }
        let harness = UplinkHarness(testConfiguration(port: mosquitto.port, version: .v311), queue: queue)
        try await harness.running {
            try await watcher.waitFor("every message", timeout: .seconds(30)) { $0.messageCount >= 1_000 }
            await harness.waitUntilQueueEmpty(queue)
        }
        #expect(watcher.inbox.payloads() == (1...1_000).map { "\($0)" })
        await mosquitto.stop()
    }

    @Test func announcesOnlineAndOnAGracefulStopOfflineWithoutTheWill() async throws {
        let mosquitto = try await Mosquitto()
        try await mosquitto.start()
        let watcher = try await TestMQTTClient.connect(port: mosquitto.port, clientIdentifier: "watcher")
        let harness = UplinkHarness(testConfiguration(port: mosquitto.port))
        try await harness.running {
            await harness.waitUntil("connected") { $0.state == .connected }
            // A subscriber that arrives later still learns that the gateway is online: the status is retained.
            let late = try await TestMQTTClient.connect(port: mosquitto.port, clientIdentifier: "late")
            try await late.subscribe("wharf/gw1/status")
            try await late.waitFor("retained online") { inbox in
                inbox.messages.contains { String(buffer: $0.payload) == "online" && $0.retain }
            }
            await late.disconnect()
            try await watcher.subscribe("wharf/gw1/status")
        }
        try await Task.sleep(for: .milliseconds(500))
        // Exactly one "offline": the explicit one. A will would have added a second.
        #expect(watcher.inbox.payloads(topicPrefix: "wharf/gw1/status") == ["online", "offline"])
        let after = try await TestMQTTClient.connect(port: mosquitto.port, clientIdentifier: "after")
        try await after.subscribe("wharf/gw1/status")
        try await after.waitFor("retained offline") { inbox in
            inbox.messages.contains { String(buffer: $0.payload) == "offline" && $0.retain }
        }
        let states = harness.logs.all.compactMap { $0.metadata["uplink.state"] }
        #expect(states.starts(with: ["connecting", "connected"]))
        #expect(states.last == "stopped")
        #expect(harness.logs.all.allSatisfy { $0.metadata["uplink.host"] == "127.0.0.1:\(mosquitto.port)" })
        await mosquitto.stop()
    }

    @Test func anUncleanLossLeavesTheWillOffline() async throws {
        let mosquitto = try await Mosquitto()
        try await mosquitto.start()
        let watcher = try await TestMQTTClient.connect(port: mosquitto.port, clientIdentifier: "watcher")
        try await watcher.subscribe("wharf/gw1/status")
        let harness = UplinkHarness(testConfiguration(port: mosquitto.port))
        try await harness.running(graceful: false) {
            await harness.waitUntil("connected") { $0.state == .connected }
            try await watcher.waitFor("online") { $0.payloads() == ["online"] }
        }
        try await watcher.waitFor("the will") { $0.payloads() == ["online", "offline"] }
        await mosquitto.stop()
    }

    @Test func remoteSubscriptionsArriveOnTheLocalBus() async throws {
        let mosquitto = try await Mosquitto()
        try await mosquitto.start()
        let subscription = RemoteSubscription(
            remoteFilter: "cmd/gw1/#", qos: .exactlyOnce, stripPrefix: "cmd/gw1/", localPrefix: "commands/")
        let harness = UplinkHarness(testConfiguration(port: mosquitto.port, subscriptions: [subscription]))
        let cloud = try await TestMQTTClient.connect(port: mosquitto.port, clientIdentifier: "cloud-app")
        try await harness.running {
            await harness.waitUntil("connected") { $0.state == .connected }
            // SUBSCRIBE follows CONNACK; publish until the subscription is in place.
            for _ in 0..<100 where harness.bus.published.isEmpty {
                try await cloud.publish("cmd/gw1/valve/3", "open")
                try await Task.sleep(for: .milliseconds(50))
            }
            try await cloud.publish("cmd/gw1/once", "exactly", qos: .exactlyOnce)
            try await cloud.publish("cmd/gw1/fire", "forget", qos: .atMostOnce)
            try await cloud.publish("other/topic", "not subscribed")
            await harness.waitUntil("three topics") { $0.received >= 3 }
            try await Task.sleep(for: .milliseconds(100))
        }
        let messages = harness.bus.published
        let first = try #require(messages.first)
        #expect(first.topic == "commands/valve/3")
        #expect(String(buffer: first.payload) == "open")
        #expect(first.principal == .uplink)
        #expect(messages.filter { $0.topic == "commands/once" }.map { String(buffer: $0.payload) } == ["exactly"])
        #expect(messages.filter { $0.topic == "commands/once" }.first?.qos == .exactlyOnce)
        #expect(messages.contains { $0.topic == "commands/fire" && $0.qos == .atMostOnce })
        #expect(!messages.contains { $0.topic.contains("other") })
        await mosquitto.stop()
    }

    @Test func keepsAnIdleLinkAliveWithPings() async throws {
        let mosquitto = try await Mosquitto(verboseLog: true)
        try await mosquitto.start()
        var configuration = testConfiguration(port: mosquitto.port)
        configuration.keepAlive = 1
        let harness = UplinkHarness(configuration)
        try await harness.running {
            await harness.waitUntil("connected") { $0.state == .connected }
            try await Task.sleep(for: .milliseconds(2_600))
            #expect(harness.service.status.state == .connected)
        }
        #expect(harness.service.status.reconnects == 0)
        #expect(mosquitto.log.components(separatedBy: "Received PINGREQ from wharf-gw1").count - 1 >= 2)
        await mosquitto.stop()
    }

    @Test func aClosedPortIsRetriedWithinTheBackoffBounds() async throws {
        let port = try await freePort()
        let harness = UplinkHarness(testConfiguration(port: port), seed: 99)
        try await harness.running {
            try await Task.sleep(for: .milliseconds(2_500))
        }
        let entries = harness.logs.all
        let attempts = entries.filter { $0.metadata["uplink.state"] == "connecting" }
        let waits = entries.filter { $0.metadata["uplink.state"] == "backing-off" }
        #expect(attempts.count >= 5)
        let ceilings = waits.compactMap { $0.metadata["uplink.ceiling_ms"].flatMap { Int($0) } }
        #expect(ceilings.prefix(5) == [50, 100, 200, 400, 400])
        #expect(ceilings.allSatisfy { $0 <= 400 })
        let tolerance = Duration.milliseconds(250)
        for (index, wait) in waits.enumerated() where index + 1 < attempts.count {
            let delay = Duration.milliseconds(Int(wait.metadata["uplink.delay_ms"] ?? "") ?? -1)
            let ceiling = Duration.milliseconds(ceilings[index])
            #expect(delay >= .zero && delay <= ceiling)
            // Time from one attempt to the next: the drawn delay, never more than the ceiling plus slack.
            let gap = attempts[index + 1].time - attempts[index].time
            #expect(gap <= ceiling + tolerance, "attempt \(index + 1) came \(gap) after the previous one")
            #expect(gap + .milliseconds(2) >= delay)
        }
        let status = harness.service.status
        #expect(status.lastError?.contains("cannot connect to 127.0.0.1:\(port)") == true)
        #expect(status.reconnects >= 4)
        #expect(entries.contains { $0.level == .error && $0.message.contains("127.0.0.1:\(port)") })
    }

    @Test func resendsWhatWasInFlightAfterTheBrokerRestarts() async throws {
        let mosquitto = try await Mosquitto(persistence: true)
        try await mosquitto.start()
        let inbox = TestInbox()
        let watcher = try await TestMQTTClient.connect(
            port: mosquitto.port, clientIdentifier: "watcher", cleanStart: false, sessionExpiry: 3600, inbox: inbox)
        try await watcher.subscribe("site/#")
        let total = 20_000
        let queue = RecordingQueue()
        for sequence in 1...total { queue.inner.append(topic: "site/r", payload: ByteBuffer(string: "\(sequence)")) }
        let harness = UplinkHarness(testConfiguration(port: mosquitto.port), queue: queue)

        let stoppedAt = try await harness.running {
            await harness.waitUntil("a part acknowledged") { $0.acknowledged >= 3_000 }
            // Frozen, the broker leaves the window full of unacknowledged publishes in its socket; stopped
            // then, it exits without reading them (after saving the watcher's queued messages).
            mosquitto.freeze()
            let stoppedAt = ContinuousClock.now
            // Mosquitto's Receive Maximum is 20 and the uplink refills in steps of a quarter window.
            await harness.waitUntil("a full window") { $0.inFlight >= 16 }
            try await Task.sleep(for: .milliseconds(100))
            await mosquitto.stop()
            await harness.waitUntil("link lost") { $0.state != .connected }
            try await Task.sleep(for: .milliseconds(300))
            try await mosquitto.start()
            _ = try await TestMQTTClient.connect(
                port: mosquitto.port, clientIdentifier: "watcher", cleanStart: false, sessionExpiry: 3600, inbox: inbox)
            await harness.waitUntil("all acknowledged", timeout: .seconds(60)) { $0.acknowledged >= total }
            try await watcher.waitFor("every message", timeout: .seconds(30)) { inbox in
                Set(inbox.payloads(topicPrefix: "site/")).count >= total
            }
            await harness.waitUntilQueueEmpty(queue.inner)
            return stoppedAt
        }

        let messages = inbox.messages.filter { $0.topic == "site/r" }
        let sequences = messages.compactMap { Int64(String(buffer: $0.payload)) }
        #expect(Set(sequences) == Set(1...Int64(total)))
        var firstSeen: [Int64] = []
        var seen = Set<Int64>()
        for sequence in sequences where seen.insert(sequence).inserted { firstSeen.append(sequence) }
        #expect(firstSeen == Array(1...Int64(total)), "first arrivals keep the queue order")
        // Copies without DUP come from the uplink (Mosquitto's own redeliveries to the watcher carry DUP).
        var copies: [Int64: Int] = [:]
        for message in messages where !message.dup {
            if let sequence = Int64(String(buffer: message.payload)) { copies[sequence, default: 0] += 1 }
        }
        let duplicated = copies.filter { $0.value > 1 }.keys.sorted()
        print("uplink restart: \(duplicated.count) duplicates, \(harness.service.status.resent) resent")
        #expect(duplicated.count <= 100, "at most one window of duplicates")
        for sequence in duplicated {
            let acknowledged = try #require(queue.acknowledgedTime(of: sequence))
            #expect(acknowledged > stoppedAt, "record \(sequence) was duplicated but acknowledged before the outage")
        }
        let status = harness.service.status
        #expect(status.reconnects >= 1)
        #expect(status.resent >= 1)
        // Mosquitto kept the uplink's session across the restart, so the resends went out with DUP.
        let sessions = harness.logs.all.compactMap { $0.metadata["mqtt.session_present"] }
        #expect(sessions == ["false", "true"])
        #expect(queue.inner.count == 0)
        await mosquitto.stop()
    }
}

/// Records per second, rounded.
func rate(_ count: Int, _ elapsed: Duration) -> Int {
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return seconds > 0 ? Int(Double(count) / seconds) : 0
}

extension UplinkHarness {
    /// Waits until the queue has been told about every delivered record.
    func waitUntilQueueEmpty(_ queue: InMemoryUplinkQueue, timeout: Duration = .seconds(10)) async {
        let deadline = ContinuousClock.now + timeout
        while queue.count > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
