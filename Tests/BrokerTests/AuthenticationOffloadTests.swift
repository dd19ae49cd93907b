import MQTTCodec
import NIOCore
import NIOEmbedded
import Synchronization
import Testing
import WharfAuth
import WharfConfig

@testable import Broker

/// Holds password checks until the test runs them, as a busy thread pool would.
final class HeldCredentialChecks: CredentialCheckExecutor {
    private let held = Mutex<[(@Sendable () -> AccessControl.Decision, EventLoopPromise<AccessControl.Decision>)]>([])

    func run(
        _ check: @escaping @Sendable () -> AccessControl.Decision,
        answeringOn eventLoop: any EventLoop
    ) -> EventLoopFuture<AccessControl.Decision> {
        let promise = eventLoop.makePromise(of: AccessControl.Decision.self)
        held.withLock { $0.append((check, promise)) }
        return promise.futureResult
    }

    var count: Int { held.withLock { $0.count } }

    /// Runs every held check and delivers its answer.
    func runAll() {
        for (check, promise) in held.withLock({ held in
            defer { held = [] }
            return held
        }) {
            promise.succeed(check())
        }
    }
}

@Suite struct AuthenticationOffloadTests {
    static func harness(_ configure: (inout BrokerConfig) -> Void = { _ in }) throws -> (
        BrokerHarness, HeldCredentialChecks
    ) {
        let harness = BrokerHarness(configure)
        let passwords = try PasswordFile(parsing: AccessControlTests.passwords, file: "passwd")
        harness.broker.updateAccessControl(AccessControl(allowAnonymous: true, passwords: passwords))
        let checks = HeldCredentialChecks()
        harness.broker.flowControl.credentialChecks.use(checks)
        return (harness, checks)
    }

    static func connect(_ id: String, password: String = "secret") -> MQTTPacket {
        .connect(ConnectPacket(clientIdentifier: id, username: "alice", password: Array(password.utf8)))
    }

    static func connAck(_ packets: [MQTTPacket]) -> ConnAckPacket? {
        packets.compactMap { if case .connAck(let ack) = $0 { ack } else { nil } }.first
    }

    @Test func thePasswordIsCheckedOffTheLoopWhileTheConnectionWaits() throws {
        let (harness, checks) = try Self.harness()
        let (client, counter) = try harness.countedConnection()
        var bytes = ByteBuffer()
        try Self.connect("a").encode(into: &bytes, version: .v5)
        try MQTTPacket.pingReq.encode(into: &bytes, version: .v5)
        try client.channel.writeInbound(bytes)
        client.channel.read()
        #expect(try client.received().isEmpty, "answered before the password was checked")
        #expect(checks.count == 1)
        #expect(counter.reads == 0, "read while the password was being checked")
        checks.runAll()
        let packets = try client.received()
        #expect(packets.count == 2)
        #expect(Self.connAck(packets)?.reasonCode == 0)
        if case .pingResp = packets.last {
        } else {
            Issue.record("PINGREQ after CONNECT not answered after it: \(packets)")
        }
        #expect(counter.reads == 1)
    }

    @Test func aWrongPasswordIsRefusedAfterTheCheck() throws {
        let (harness, checks) = try Self.harness()
        let client = try harness.connection()
        try client.send(Self.connect("w", password: "nope"))
        checks.runAll()
        #expect(Self.connAck(try client.received())?.reasonCode == ReasonCode.badUserNameOrPassword.rawValue)
        #expect(!client.isActive)
    }

    @Test func checksBeyondTheBoundsAreRefusedWithServerBusy() throws {
        let (harness, checks) = try Self.harness { $0.flowControl.maxAuthInFlightPerAddress = 1 }
        let first = try harness.connection()
        try first.send(Self.connect("one"))
        let second = try harness.connection()
        try second.send(Self.connect("two"))
        #expect(Self.connAck(try second.received())?.reasonCode == ReasonCode.serverBusy.rawValue)
        #expect(!second.isActive)
        #expect(checks.count == 1)
        #expect(harness.broker.flowControl.credentialChecks.refused[.address] == 1)
        checks.runAll()
        #expect(Self.connAck(try first.received())?.reasonCode == 0)
        // The slot is free again (a wrong password: the right one is remembered now).
        let third = try harness.connection()
        try third.send(Self.connect("three", password: "guess"))
        #expect(checks.count == 1)
    }

    @Test func aFullBrokerRefusesBeforeCheckingThePassword() throws {
        let (harness, checks) = try Self.harness { $0.maxConnections = 1 }
        let anonymous = try harness.connection()
        #expect(try anonymous.connect("anonymous")?.reasonCode == 0)
        let client = try harness.connection()
        try client.send(Self.connect("late"))
        #expect(Self.connAck(try client.received())?.reasonCode == ReasonCode.quotaExceeded.rawValue)
        #expect(checks.count == 0)
    }

    @Test func aRememberedPasswordNeedsNoCheck() throws {
        let (harness, checks) = try Self.harness()
        let first = try harness.connection()
        try first.send(Self.connect("again"))
        checks.runAll()
        #expect(Self.connAck(try first.received())?.reasonCode == 0)
        try first.send(.disconnect(DisconnectPacket()))
        let second = try harness.connection()
        try second.send(Self.connect("again"))
        #expect(Self.connAck(try second.received())?.reasonCode == 0)
        #expect(checks.count == 0)
    }

    @Test func aConnectionGoneDuringTheCheckIsLeftAlone() throws {
        let (harness, checks) = try Self.harness()
        let client = try harness.connection()
        try client.send(Self.connect("gone"))
        try client.channel.close().wait()
        checks.runAll()
        harness.loop.run()
        #expect(harness.broker.sessionCount == 0)
        #expect(harness.broker.flowControl.credentialChecks.inFlight == 0)
    }
}
