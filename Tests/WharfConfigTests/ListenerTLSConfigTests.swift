import Testing
import WharfConfig

@Suite struct ListenerTLSConfigTests {
    private func listener(_ lines: String) -> String {
        "broker:\n  listeners:\n    - name: lan-tls\n      bind: 0.0.0.0\n" + lines
    }

    @Test func tlsSectionIsReadWithDefaults() throws {
        let yaml = listener(
            "      tls:\n        cert_file: /etc/wharf/server.crt\n        key_file: /etc/wharf/server.key\n")
        let read = try #require(loadValid(yaml)?.broker.listeners.first)
        let tls = try #require(read.tls)
        #expect(read.port == 8883)
        #expect(tls.certFile.path == "/etc/wharf/server.crt")
        #expect(tls.keyFile.path == "/etc/wharf/server.key")
        #expect(tls.caFile == nil)
        #expect(!tls.requireCertificate)
        #expect(tls.minimumVersion == .tls12)
        #expect(!read.useIdentityAsUsername)
        // Where the key file is written, for messages about the file itself.
        #expect(tls.keyFile.issue("x").description == "wharf.yaml:7:19: broker.listeners[0].tls.key_file: x")
    }

    @Test func everyKeyIsRead() throws {
        let yaml = listener(
            """
                  port: 8884
                  use_identity_as_username: true
                  tls:
                    cert_file: s.crt
                    key_file: s.key
                    ca_file: ca.crt
                    require_certificate: true
                    min_version: tlsv1.3

            """)
        let read = try #require(loadValid(yaml)?.broker.listeners.first)
        #expect(read.port == 8884)
        #expect(read.useIdentityAsUsername)
        #expect(read.tls?.caFile?.path == "ca.crt")
        #expect(read.tls?.requireCertificate == true)
        #expect(read.tls?.minimumVersion == .tls13)
    }

    @Test func plainListenersKeepPort1883AndNoTLS() throws {
        let read = try #require(loadValid(listener(""))?.broker.listeners.first)
        #expect(read.port == 1883)
        #expect(read.tls == nil)
    }

    @Test func missingFilesAreNamed() {
        let found = issues(of: listener("      tls:\n        ca_file: ca.crt\n"))
        #expect(found.map(\.path) == ["broker.listeners[0].tls.cert_file", "broker.listeners[0].tls.key_file"])
        #expect(found.allSatisfy { $0.message.hasPrefix("missing required key") })
    }

    @Test func requiringCertificatesNeedsACA() {
        let found = issues(
            of: listener(
                "      tls:\n        cert_file: s.crt\n        key_file: s.key\n        require_certificate: true\n"))
        #expect(found.count == 1)
        #expect(found.first?.path == "broker.listeners[0].tls.require_certificate")
        #expect(found.first?.line == 8)
        #expect(found.first?.message.contains("ca_file") == true)
    }

    @Test func identityAsUsernameNeedsRequiredCertificates() {
        let plain = issues(of: listener("      use_identity_as_username: true\n"))
        #expect(plain.map(\.path) == ["broker.listeners[0].use_identity_as_username"])
        #expect(plain.first?.line == 5)
        let optional = issues(
            of: listener(
                "      use_identity_as_username: true\n      tls:\n        cert_file: s.crt\n        key_file: s.key\n"
                    + "        ca_file: ca.crt\n"))
        #expect(optional.map(\.path) == ["broker.listeners[0].use_identity_as_username"])
    }

    @Test func unknownVersionsAndKeysAreReported() {
        let found = issues(
            of: listener(
                "      tls:\n        cert_file: s.crt\n        key_file: s.key\n        min_version: tlsv1.1\n"
                    + "        cafile: ca.crt\n"))
        #expect(found.map(\.path) == ["broker.listeners[0].tls.min_version", "broker.listeners[0].tls.cafile"])
        #expect(found.first?.message.contains("tlsv1.2, tlsv1.3") == true)
    }

    @Test func listenersDifferingOnlyInWhereAFileIsWrittenAreEqual() throws {
        let first = try #require(
            loadValid(listener("      tls:\n        cert_file: s.crt\n        key_file: s.key\n"))?.broker.listeners)
        let second = try #require(
            loadValid("\n\n" + listener("      tls:\n        key_file: s.key\n        cert_file: s.crt\n"))?.broker
                .listeners)
        #expect(first == second)
    }
}

@Suite struct ListenerTransportConfigTests {
    private func listeners(_ yaml: String) -> [ListenerConfig]? {
        loadValid("broker:\n  listeners:\n" + yaml)?.broker.listeners
    }

    @Test func websocketListenersTakeTheirOwnDefaultPorts() throws {
        let read = try #require(
            listeners(
                "    - name: ws\n      protocol: websocket\n"
                    + "    - name: wss\n      protocol: websocket\n      tls:\n        cert_file: s.crt\n"
                    + "        key_file: s.key\n"
                    + "    - name: plain\n      protocol: mqtt\n"))
        #expect(read.map(\.transport) == [.websocket, .websocket, .mqtt])
        #expect(read.map(\.port) == [8083, 8084, 1883])
        #expect(read[1].tls != nil)
    }

    @Test func mosquittosSpellingIsTheSame() throws {
        let read = try #require(listeners("    - protocol: websockets\n      port: 9001\n"))
        #expect(read.first?.transport == .websocket)
    }

    @Test func otherProtocolsAreRefusedWithTheChoices() {
        let found = issues(of: "broker:\n  listeners:\n    - protocol: ws\n")
        #expect(found.map(\.path) == ["broker.listeners[0].protocol"])
        #expect(found.first?.message.hasPrefix("expected one of mqtt, websocket") == true)
    }

    @Test func theDefaultListenerIsPlainMQTT() throws {
        #expect(loadValid("")?.broker.listeners.first?.transport == .mqtt)
    }
}
