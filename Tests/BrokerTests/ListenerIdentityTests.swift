import Logging
import MQTTCodec
import NIOCore
import NIOEmbedded
import Synchronization
import Testing
import WharfConfig

@testable import Broker

/// The MQTT handler as the TLS and WebSocket listeners use it: given the certificate's CN
/// (`use_identity_as_username`), and added to a connection that is already active.
@Suite struct ListenerIdentityTests {
    private func connection(
        _ harness: BrokerHarness, identity: String?, addedWhenActive: Bool = false
    ) throws -> TestConnection {
        let channel = EmbeddedChannel(loop: harness.loop)
        let handler = MQTTConnectionHandler(
            broker: harness.broker, listener: "lan-tls", logger: Logger(label: "test"), peerIdentity: { identity })
        if addedWhenActive {
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            try channel.pipeline.syncOperations.addHandler(handler)
        } else {
            try channel.pipeline.syncOperations.addHandler(handler)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        }
        return TestConnection(channel: channel, loop: harness.loop)
    }

    private func connAck(_ client: TestConnection, username: String?) throws -> ConnAckPacket? {
        try client.send(
            .connect(ConnectPacket(clientIdentifier: "device", username: username, password: Array("pw".utf8))))
        return try client.received().compactMap { if case .connAck(let ack) = $0 { ack } else { nil } }.first
    }

    @Test func theCertificateNameReplacesTheClaimedUserName() throws {
        // Anonymous clients refused and no password file: only the certificate can admit it.
        let harness = BrokerHarness { config in
            config.allowAnonymous = false
            config.useUsernameAsClientID = true
        }
        let client = try connection(harness, identity: "sensor-7")
        let ack = try #require(try connAck(client, username: "admin"))
        #expect(ack.reasonCode == 0)
        // The client id follows the user name here, which shows the name the broker took.
        #expect(ack.properties.assignedClientIdentifier == "sensor-7")
    }

    @Test func aCertificateWithoutAUsableNameIsRefused() throws {
        let harness = BrokerHarness()
        let client = try connection(harness, identity: nil)
        let ack = try #require(try connAck(client, username: "admin"))
        #expect(ack.reasonCode == ReasonCode.notAuthorized.rawValue)
        #expect(!client.isActive)
    }

    @Test func aHandlerJoiningAnActiveConnectionCountsItAndTimesItOut() throws {
        let harness = BrokerHarness()
        let client = try connection(harness, identity: "sensor-7", addedWhenActive: true)
        #expect(harness.broker.statistics.connectionsOpen.load(ordering: .relaxed) == 1)
        harness.loop.advanceTime(by: MQTTConnectionHandler.connectTimeout - .milliseconds(1))
        #expect(client.isActive)
        harness.loop.advanceTime(by: .milliseconds(1))
        #expect(!client.isActive)
        #expect(harness.broker.statistics.connectionsOpen.load(ordering: .relaxed) == 0)
    }
}
