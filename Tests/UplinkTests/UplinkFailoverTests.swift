import Foundation
import MQTTCodec
import NIOCore
import Synchronization
import Testing
import WharfCore

@testable import Uplink

/// Several endpoints against real Mosquitto brokers on 127.0.0.1: the order of addresses, failover and
/// failback. Serialized: each test owns brokers.
@Suite(.serialized) struct UplinkFailoverTests {
    /// A configuration for `ports` on 127.0.0.1, in that order.
    private func configuration(_ ports: [Int], failback: Duration? = nil) -> UplinkConfiguration {
        var configuration = testConfiguration(port: ports[0])
        configuration.endpoints = ports.map { UplinkEndpoint(host: "127.0.0.1", port: $0) }
        configuration.failback = failback
        return configuration
    }

    @Test func theAddressesOfANameAreTriedInTurnAndTheNameIsKept() async throws {
        let mosquitto = try await Mosquitto()
        try await mosquitto.start()
        let closed = try await freePort()
        let asked = Mutex<[String]>([])
        // The name resolves to a dead address first and the broker second.
        let resolver = HostResolver { host, port in
            asked.withLock { $0.append("\(host):\(port)") }
            return [
                try SocketAddress(ipAddress: "127.0.0.1", port: closed),
                try SocketAddress(ipAddress: "127.0.0.1", port: mosquitto.port),
            ]
        }
        var configuration = testConfiguration(port: 1)
        configuration.endpoints = [UplinkEndpoint(host: "cloud.test", port: 1883)]
        let harness = UplinkHarness(configuration, resolver: resolver)
        try await harness.running {
            await harness.waitUntil("connected") { $0.state == .connected }
        }
        #expect(asked.withLock { $0 }.first == "cloud.test:1883")
        #expect(harness.service.status.endpoint == "cloud.test:1883")
        // That one attempt tries every address is `openFirst`'s test (below): on a busy machine an attempt
        // can fail for reasons of its own, so the count of reconnects is not checked here.
        await mosquitto.stop()
    }

    @Test func oneAttemptTriesEveryAddressInTurn() async throws {
        let dead = try SocketAddress(ipAddress: "127.0.0.1", port: 1)
        let live = try SocketAddress(ipAddress: "127.0.0.2", port: 2)
        let tried = Mutex<[SocketAddress]>([])
        let opened = try await openFirst([dead, live]) { address in
            tried.withLock { $0.append(address) }
            if address == dead { throw UplinkError(.connectFailed, "refused") }
            return address
        }
        #expect(opened == live)
        #expect(tried.withLock { $0 } == [dead, live])
        await #expect(throws: UplinkError.self) {
            _ = try await openFirst([dead, dead]) { _ -> SocketAddress in throw UplinkError(.connectFailed, "refused") }
        }
    }

    @Test func aDeadFirstEndpointIsFollowedAtOnceByTheNext() async throws {
        let mosquitto = try await Mosquitto()
        try await mosquitto.start()
        let closed = try await freePort()
        var configuration = configuration([closed, mosquitto.port])
        // A backoff that would be noticed: moving to the next endpoint must not wait for it.
        configuration.backoff = BackoffPolicy(base: .seconds(30), cap: .seconds(30), stableAfter: .seconds(30))
        let harness = UplinkHarness(configuration)
        try await harness.running {
            await harness.waitUntil("connected to the second", timeout: .seconds(10)) { $0.state == .connected }
        }
        #expect(harness.service.status.endpoint == "127.0.0.1:\(mosquitto.port)")
        #expect(!harness.logs.all.contains { $0.metadata["uplink.state"] == "backing-off" })
        await mosquitto.stop()
    }

    @Test func failsOverWhenThePrimaryDiesAndFailsBackWhenItReturns() async throws {
        let primary = try await Mosquitto()
        let backup = try await Mosquitto()
        try await primary.start()
        try await backup.start()
        let watcher = try await TestMQTTClient.connect(port: backup.port, clientIdentifier: "watcher")
        try await watcher.subscribe("wharf/gw1/status")
        let harness = UplinkHarness(configuration([primary.port, backup.port], failback: .seconds(1)))
        try await harness.running {
            await harness.waitUntil("connected to the primary") {
                $0.state == .connected && $0.endpoint == "127.0.0.1:\(primary.port)"
            }
            await primary.stop()
            await harness.waitUntil("connected to the backup") {
                $0.state == .connected && $0.endpoint == "127.0.0.1:\(backup.port)"
            }
            #expect(harness.service.status.failovers == 1)
            try await watcher.waitFor("online on the backup") { $0.payloads() == ["online"] }
            try await primary.start()
            await harness.waitUntil("back on the primary", timeout: .seconds(15)) {
                $0.state == .connected && $0.endpoint == "127.0.0.1:\(primary.port)"
            }
            // Leaving the backup on purpose says so there.
            try await watcher.waitFor("offline on the backup") { $0.payloads() == ["online", "offline"] }
        }
        #expect(harness.service.status.failovers == 1)
        await watcher.disconnect()
        await primary.stop()
        await backup.stop()
    }
}

@Suite struct UplinkErrorWordingTests {
    @Test func aSocketErrorOnAnEstablishedLinkIsALostConnectionNotAFailureToConnect() {
        let harness = UplinkHarness(testConfiguration(port: 1883))
        let reset = IOError(errnoCode: ECONNRESET, reason: "read")
        let lost = harness.service.describing(reset)
        #expect(lost.kind == .connectionClosed)
        #expect(lost.message.hasPrefix("lost the connection to 127.0.0.1:1883"))
        // Connecting is still described as connecting.
        let failed = UplinkError.describing(reset, host: "127.0.0.1", port: 1883)
        #expect(failed.kind == .connectFailed && failed.message.hasPrefix("cannot connect to 127.0.0.1:1883"))
    }
}
