import Logging
import NIOCore
import Testing
import WharfCore

@testable import Uplink

extension UplinkMosquittoTests {
    /// A Mosquitto with a plain listener (for the watcher) and a TLS listener that requires a client certificate.
    private func tlsBroker(_ certificates: TestCertificates) async throws -> (Mosquitto, tlsPort: Int) {
        let tlsPort = try await freePort()
        let mosquitto = try await Mosquitto(configuration: [
            "listener \(tlsPort) 127.0.0.1",
            "cafile \(certificates.caFile)",
            "certfile \(certificates.serverCertificate)",
            "keyfile \(certificates.serverKey)",
            "require_certificate true",
        ])
        try await mosquitto.start(waitingFor: [tlsPort])
        return (mosquitto, tlsPort)
    }

    @Test func tlsWithTheRightCAAndAClientCertificatePublishes() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (mosquitto, tlsPort) = try await tlsBroker(certificates)
        let watcher = try await TestMQTTClient.connect(port: mosquitto.port, clientIdentifier: "watcher")
        try await watcher.subscribe("site/#")

        for (index, serverName) in [nil, "localhost"].enumerated() {
            let tls = UplinkTLS(
                caFile: certificates.caFile, certificateFile: certificates.clientCertificate,
                privateKeyFile: certificates.clientKey, serverName: serverName)
            let queue = InMemoryUplinkQueue()
            for sequence in 1...100 {
                queue.append(topic: "site/tls\(index)", payload: ByteBuffer(string: "\(sequence)"))
            }
            let harness = UplinkHarness(
                testConfiguration(port: tlsPort, clientIdentifier: "gw-tls-\(index)", tls: tls), queue: queue)
            try await harness.running {
                await harness.waitUntil("connected over TLS") { $0.state == .connected }
                try await watcher.waitFor("TLS messages") { $0.payloads(topicPrefix: "site/tls\(index)").count >= 100 }
                await harness.waitUntilQueueEmpty(queue)
            }
            #expect(watcher.inbox.payloads(topicPrefix: "site/tls\(index)") == (1...100).map { "\($0)" })
            #expect(harness.service.status.lastError == nil)
            #expect(queue.count == 0)
        }
        await mosquitto.stop()
    }

    @Test func tlsWithTheWrongCAFailsClearlyAndRetries() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (mosquitto, tlsPort) = try await tlsBroker(certificates)
        let tls = UplinkTLS(
            caFile: certificates.otherCAFile, certificateFile: certificates.clientCertificate,
            privateKeyFile: certificates.clientKey)
        let harness = UplinkHarness(testConfiguration(port: tlsPort, tls: tls))
        try await harness.running {
            await harness.waitUntil("a retry after the failure") { $0.reconnects >= 2 }
        }
        let status = harness.service.status
        let error = try #require(status.lastError)
        #expect(error.contains("127.0.0.1:\(tlsPort)"))
        #expect(error.contains("certificate verification failed"))
        #expect(
            harness.logs.all.contains { $0.level == .error && $0.message.contains("certificate verification failed") })
        #expect(!harness.logs.all.contains { $0.metadata["uplink.state"] == "connected" })
        await mosquitto.stop()
    }

    @Test func tlsWithoutAClientCertificateIsRefused() async throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let (mosquitto, tlsPort) = try await tlsBroker(certificates)
        let harness = UplinkHarness(testConfiguration(port: tlsPort, tls: UplinkTLS(caFile: certificates.caFile)))
        try await harness.running {
            await harness.waitUntil("a retry after the failure") { $0.reconnects >= 1 }
        }
        let error = try #require(harness.service.status.lastError)
        #expect(error.contains("127.0.0.1:\(tlsPort)"))
        #expect(!harness.logs.all.contains { $0.metadata["uplink.state"] == "connected" })
        print("uplink without client certificate: \(error)")
        await mosquitto.stop()
    }

    @Test func missingTLSFilesAreNamed() async throws {
        let port = try await freePort()
        let tls = UplinkTLS(caFile: "/nonexistent/ca.pem")
        let harness = UplinkHarness(testConfiguration(port: port, tls: tls))
        try await harness.running {
            await harness.waitUntil("the failure") { $0.lastError != nil }
        }
        #expect(harness.service.status.lastError?.contains("/nonexistent/ca.pem") == true)
    }
}
