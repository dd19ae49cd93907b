import AdminAPI
import Testing
import WharfConfig

@Suite struct ConfigRedactionTests {
    @Test func masksSecretsEverywhere() throws {
        var configuration = WharfConfiguration.default
        configuration.uplink.enabled = true
        configuration.uplink.host = "cloud.example"
        configuration.uplink.password = "hunter2"
        configuration.uplink.tls.keyFile = "/etc/wharf/client.key"
        configuration.adapters = [
            AdapterConfig(
                name: "coap-1",
                type: "coap",
                settings: .object([
                    .init("port", .int(5684)),
                    .init("dtls", .object([.init("psk_key", .string("s3cret")), .init("identity", .string("gw"))])),
                    .init("clients", .array([.object([.init("secret", .string("xyz"))])])),
                ])
            )
        ]
        let json = ConfigRedaction.json(configuration)
        let text = json.rendered()
        for secret in ["hunter2", "client.key", "s3cret", "xyz"] {
            #expect(!text.contains(secret), "\(secret) leaked")
        }
        #expect(json["uplink"]?["password"] == .string("***"))
        #expect(json["uplink"]?["tls"]?["key_file"] == .string("***"))
        #expect(json["uplink"]?["host"] == .string("cloud.example"))
        #expect(json["uplink"]?["keepalive"] == .string("1m"))
        #expect(text.contains("\"identity\": \"gw\""))
    }

    @Test func listenersShowTheirFilesAndProtocolAndMaskTheKey() {
        var configuration = WharfConfiguration.default
        configuration.broker.listeners = [
            ListenerConfig(
                name: "lan-wss",
                bind: "0.0.0.0",
                port: 8884,
                tls: ListenerTLSConfig(
                    certFile: ConfigFileSetting(path: "/etc/wharf/tls/server.crt"),
                    keyFile: ConfigFileSetting(path: "/etc/wharf/tls/server.key"),
                    caFile: ConfigFileSetting(path: "/etc/wharf/tls/ca.crt"),
                    requireCertificate: true
                ),
                useIdentityAsUsername: true,
                transport: .websocket
            )
        ]
        let json = ConfigRedaction.json(configuration)
        guard case .array(let listeners)? = json["broker"]?["listeners"], let listener = listeners.first else {
            Issue.record("no listeners in \(json.rendered())")
            return
        }
        #expect(listener["protocol"] == .string("websocket"))
        #expect(listener["use_identity_as_username"] == .bool(true))
        #expect(listener["tls"]?["cert_file"] == .string("/etc/wharf/tls/server.crt"))
        #expect(listener["tls"]?["ca_file"] == .string("/etc/wharf/tls/ca.crt"))
        #expect(listener["tls"]?["key_file"] == .string("***"))
        #expect(listener["tls"]?["require_certificate"] == .bool(true))
        #expect(listener["tls"]?["min_version"] == .string("tlsv1.2"))
        #expect(!json.rendered().contains("server.key"))
    }

    @Test func unsetSecretsStayVisibleAsUnset() {
        let json = ConfigRedaction.json(.default)
        #expect(json["uplink"]?["password"] == .null)
        #expect(json["uplink"]?["tls"]?["key_file"] == .string(""))
    }

    @Test func keysFollowTheConfigFile() {
        let json = ConfigRedaction.json(.default)
        #expect(json["storage"]?["data_dir"] == .string("/var/lib/wharf"))
        #expect(json["broker"]?["max_keepalive"] == .int(65535))
        #expect(json["broker"]?["listeners"] != nil)
        #expect(
            json["admin"]
                == .object([
                    ("enabled", .bool(true)), ("listen", .string("127.0.0.1:9883")), ("allow_remote", .bool(false)),
                    ("log_lines", .int(200)), ("history_interval", .string("10s")),
                    ("max_event_streams", .int(8)), ("password_file", .null), ("trust_loopback", .bool(true)),
                    ("allow_insecure_login", .bool(false)), ("session_lifetime", .string("8h")),
                    ("max_sessions", .int(32)), ("login_failures_per_minute", .int(5)), ("tls", .null),
                ]))
        #expect(json["log"]?["level"] == .string("info"))
    }

    @Test(arguments: [
        ("password", true), ("psk_key", true), ("key_file", true), ("client_secret", true), ("api-token", true),
        ("keepalive", false), ("max_keepalive", false), ("username", false), ("monkey", false),
    ])
    func secretNames(key: String, secret: Bool) {
        #expect(ConfigRedaction.isSecret(key) == secret)
    }

    @Test func rendersValidEscapedJSON() {
        let value = JSONValue.object([("a\"b", .string("line\nbreak\u{1}")), ("list", .array([.int(1), .null]))])
        #expect(
            value.rendered() == "{\n  \"a\\\"b\": \"line\\nbreak\\u0001\",\n  \"list\": [\n    1,\n    null\n  ]\n}")
    }
}
