import Logging
import MQTTCodec
import NIOCore
import Testing
import WharfConfig
import WharfCore

@testable import Broker

#if canImport(Glibc)
    import Glibc
#endif

/// Credentials and ACLs swapped at run time, as a SIGHUP reload does.
@Suite struct AccessControlTests {
    /// Made by `mosquitto_passwd -b FILE alice secret`.
    static let passwords =
        "alice:$7$101$hblm20AbqGFVSKI4$3g6+rmO8rvfV+vmyF+Y7h6Igu1TgB+D0y5uj84FMHxawnr+1jk5ZVRtI+TjhDk4gwz1gBca8wP23hG34daZVPA==\n"

    /// Writes `text` to a fresh file under /tmp and returns its path.
    func file(_ text: String) throws -> String {
        var template = Array("/tmp/wharf-auth-test.XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.map { mkstemp($0) } ?? -1
        }
        try #require(descriptor >= 0)
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) } == bytes.count)
        close(descriptor)
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func connect(_ client: TestConnection, _ id: String, username: String? = nil, password: String? = nil) throws
        -> ConnAckPacket?
    {
        try client.send(
            .connect(ConnectPacket(clientIdentifier: id, username: username, password: password.map { Array($0.utf8) }))
        )
        return try client.received().compactMap { if case .connAck(let ack) = $0 { ack } else { nil } }.first
    }

    func subAckCodes(_ client: TestConnection) throws -> [UInt8] {
        try client.received().flatMap { packet -> [UInt8] in
            guard case .subAck(let ack) = packet else { return [] }
            return ack.reasonCodes
        }
    }

    @Test func reloadAppliesToConnectedClientsAndNewConnections() throws {
        let harness = BrokerHarness()
        let early = try harness.connection()
        #expect(try connect(early, "early")?.reasonCode == 0)
        try early.subscribe("plant/#", qos: .atMostOnce)
        #expect(try subAckCodes(early) == [0])

        var config = BrokerConfig()
        config.passwordFile = try file(Self.passwords)
        config.aclFile = try file(
            "topic read public/#\nuser alice\ntopic readwrite plant/#\nuser adapter:test\ntopic write plant/#\n")
        defer {
            unlink(config.passwordFile)
            unlink(config.aclFile)
        }
        try harness.broker.reloadAccessControl(config)

        // The anonymous client already connected may no longer read plant/...
        _ = try harness.broker.publishNow(
            Message(topic: "plant/temp", payload: ByteBuffer(string: "1"), principal: .adapter("test")))
        #expect(try early.received().isEmpty)
        try early.subscribe("plant/#", qos: .atMostOnce, identifier: 2)
        #expect(try subAckCodes(early) == [ReasonCode.notAuthorized.rawValue])

        let wrong = try harness.connection()
        #expect(try connect(wrong, "w", username: "alice", password: "nope")?.reasonCode == 0x86)
        let alice = try harness.connection()
        #expect(try connect(alice, "a", username: "alice", password: "secret")?.reasonCode == 0)
        try alice.subscribe("plant/#", qos: .atMostOnce)
        #expect(try subAckCodes(alice) == [0])
        _ = try harness.broker.publishNow(
            Message(topic: "plant/temp", payload: ByteBuffer(string: "2"), principal: .adapter("test")))
        let delivered = try alice.received().compactMap { if case .publish(let p) = $0 { p.topic } else { nil } }
        #expect(delivered == ["plant/temp"])
    }

    @Test func aBrokenFileKeepsTheCurrentRules() throws {
        let harness = BrokerHarness()
        var config = BrokerConfig()
        config.aclFile = try file("user alice\ntopic read a/#/b\n")
        defer { unlink(config.aclFile) }
        #expect(throws: (any Error).self) { try harness.broker.reloadAccessControl(config) }
        let client = try harness.connection()
        #expect(try connect(client, "c")?.reasonCode == 0)
        try client.subscribe("anything/#", qos: .atMostOnce)
        #expect(try subAckCodes(client) == [0])
    }

    @Test func aConfiguredPasswordFileNotYetLoadedAdmitsNobody() throws {
        let harness = BrokerHarness { $0.passwordFile = "/etc/wharf/passwd" }
        let client = try harness.connection()
        #expect(try connect(client, "c")?.reasonCode == ReasonCode.notAuthorized.rawValue)
    }
}
