import Testing
import WharfConfig

/// One invalid document and the single issue it must produce.
struct InvalidCase: Sendable, CustomTestStringConvertible {
    var yaml: String
    var path: String
    var line: Int
    var column: Int
    var message: String

    var testDescription: String { path.isEmpty ? message : path }
}

@Suite struct ValidationTests {
    static let cases: [InvalidCase] = [
        // gateway, log, storage
        .init(
            yaml: "gateway:\n  id: a/b\n", path: "gateway.id", line: 2, column: 7,
            message: "expected up to 64 letters, digits, '.', '_' or '-' (the id is one level of the cloud topics "
                + "wharf/{gateway}/...), got \"a/b\""
        ),
        .init(
            yaml: "gateway:\n  id: [a]\n", path: "gateway.id", line: 2, column: 7,
            message: "expected text, got a list"
        ),
        .init(
            yaml: "log:\n  level: verbose\n", path: "log.level", line: 2, column: 10,
            message: "expected one of trace, debug, info, notice, warning, error, critical, got \"verbose\""
        ),
        .init(
            yaml: "log:\n  level: warn\n", path: "log.level", line: 2, column: 10,
            message: "expected one of trace, debug, info, notice, warning, error, critical, got \"warn\"; "
                + "did you mean 'warning'?"
        ),
        .init(
            yaml: "log:\n  components:\n    broker: 3\n", path: "log.components.broker", line: 3, column: 13,
            message: "expected one of trace, debug, info, notice, warning, error, critical, got 3"
        ),
        .init(
            yaml: "log:\n  components: debug\n", path: "log.components", line: 2, column: 15,
            message: "expected a mapping of settings (indented 'key: value' lines), got \"debug\""
        ),
        .init(
            yaml: "storage:\n  data_dir: wharf\n", path: "storage.data_dir", line: 2, column: 13,
            message: "expected an absolute directory path such as /var/lib/wharf, got \"wharf\""
        ),
        // broker scalars
        .init(
            yaml: "broker:\n  allow_anonymous: maybe\n", path: "broker.allow_anonymous", line: 2, column: 20,
            message: "expected true or false, got \"maybe\""
        ),
        .init(
            yaml: "broker:\n  retain_available: 'true'\n", path: "broker.retain_available", line: 2, column: 21,
            message: "expected true or false, got \"true\"; remove the quotes"
        ),
        .init(
            yaml: "broker:\n  max_connections: -1\n", path: "broker.max_connections", line: 2, column: 20,
            message: "expected an integer of at least 0, got -1"
        ),
        .init(
            yaml: "broker:\n  max_connections: lots\n", path: "broker.max_connections", line: 2, column: 20,
            message: "expected an integer of at least 0, got \"lots\""
        ),
        .init(
            yaml: "broker:\n  max_connections: 2.5\n", path: "broker.max_connections", line: 2, column: 20,
            message: "expected an integer of at least 0, got 2.5"
        ),
        .init(
            yaml: "broker:\n  max_packet_size: 63\n", path: "broker.max_packet_size", line: 2, column: 20,
            message: "expected 0 (the protocol maximum) or a size from 64 bytes to 268435455 bytes, got 63"
        ),
        .init(
            yaml: "broker:\n  max_packet_size: 256MiB\n", path: "broker.max_packet_size", line: 2, column: 20,
            message: "expected 0 (the protocol maximum) or a size from 64 bytes to 268435455 bytes, got \"256MiB\""
        ),
        .init(
            yaml: "broker:\n  max_packet_size: 1M\n", path: "broker.max_packet_size", line: 2, column: 20,
            message: "expected a size such as 1048576, 256KiB, 1MiB or 1MB (a plain number means bytes), got \"1M\""
        ),
        .init(
            yaml: "broker:\n  max_inflight_messages: 0\n", path: "broker.max_inflight_messages", line: 2, column: 26,
            message: "expected an integer from 1 to 65535, got 0"
        ),
        .init(
            yaml: "broker:\n  max_inflight_messages: \"20\"\n", path: "broker.max_inflight_messages", line: 2,
            column: 26,
            message: "expected an integer from 1 to 65535, got \"20\"; remove the quotes to make it a number"
        ),
        .init(
            yaml: "broker:\n  max_queued_messages: -5\n", path: "broker.max_queued_messages", line: 2, column: 24,
            message: "expected an integer of at least 0, got -5"
        ),
        .init(
            yaml: "broker:\n  max_keepalive: 65536\n", path: "broker.max_keepalive", line: 2, column: 18,
            message: "expected an integer from 0 to 65535, got 65536"
        ),
        .init(
            yaml: "broker:\n  max_keepalive: 1:30\n", path: "broker.max_keepalive", line: 2, column: 18,
            message: "expected an integer from 0 to 65535, got \"1:30\""
        ),
        .init(
            yaml: "broker:\n  max_topic_alias: 70000\n", path: "broker.max_topic_alias", line: 2, column: 20,
            message: "expected an integer from 0 to 65535, got 70000"
        ),
        .init(
            yaml: "broker:\n  max_session_expiry: forever\n", path: "broker.max_session_expiry", line: 2, column: 23,
            message: "expected a duration such as 30s, 500ms, 5m, 2h or 1d (a plain number means seconds), "
                + "got \"forever\""
        ),
        .init(
            yaml: "broker:\n  sys_interval: 500ms\n", path: "broker.sys_interval", line: 2, column: 17,
            message: "expected 0 (no $SYS statistics) or a duration of at least 1s, got \"500ms\""
        ),
        .init(
            yaml: "broker:\n  sys_interval: -10\n", path: "broker.sys_interval", line: 2, column: 17,
            message: "expected a duration such as 30s, 500ms, 5m, 2h or 1d (a plain number means seconds), got -10"
        ),
        .init(
            yaml: "broker:\n  shared_subscriptions: 1\n", path: "broker.shared_subscriptions", line: 2, column: 25,
            message: "expected true or false, got 1"
        ),
        // listeners
        .init(
            yaml: "broker:\n  listeners:\n    port: 1883\n", path: "broker.listeners", line: 3, column: 5,
            message: "expected a list (lines starting with '- '), got a mapping"
        ),
        .init(
            yaml: "broker:\n  listeners:\n    - 1883\n", path: "broker.listeners[0]", line: 3, column: 7,
            message: "expected a mapping of settings (indented 'key: value' lines), got 1883"
        ),
        .init(
            yaml: "broker:\n  listeners:\n    - port: 70000\n", path: "broker.listeners[0].port", line: 3, column: 13,
            message: "expected an integer from 1 to 65535, got 70000"
        ),
        .init(
            yaml: "broker:\n  listeners:\n    - port: 0\n", path: "broker.listeners[0].port", line: 3, column: 13,
            message: "expected an integer from 1 to 65535, got 0"
        ),
        .init(
            yaml: "broker:\n  listeners:\n    - bind: 10.0.0.256\n", path: "broker.listeners[0].bind", line: 3,
            column: 13,
            message: "expected an IP address (127.0.0.1 for this machine only, 0.0.0.0 for all IPv4 interfaces, "
                + ":: for all interfaces) or a host name, got \"10.0.0.256\""
        ),
        .init(
            yaml: "broker:\n  listeners:\n    - name: LAN 1\n", path: "broker.listeners[0].name", line: 3, column: 13,
            message: "expected a name made of lowercase letters, digits, '_' and '-', got \"LAN 1\""
        ),
        .init(
            yaml: "broker:\n  listeners:\n    - name: a\n      port: 1883\n    - name: a\n      port: 1884\n",
            path: "broker.listeners[1].name", line: 5, column: 13,
            message: "listener name 'a' is already used by broker.listeners[0] (line 3); names must be unique"
        ),
        .init(
            yaml: "broker:\n  listeners:\n    - name: a\n    - name: b\n      port: 1883\n",
            path: "broker.listeners[1].port", line: 5, column: 13,
            message:
                "port 1883 on 127.0.0.1 is already used by listener 'a' on 127.0.0.1 at broker.listeners[0] (line 3)"
        ),
        .init(
            yaml: "broker:\n  listeners:\n    - bind: 0.0.0.0\n    - bind: 192.168.1.2\n",
            path: "broker.listeners[1]", line: 4, column: 7,
            message: "port 1883 on 192.168.1.2 is already used by listener '0.0.0.0:1883' on 0.0.0.0 "
                + "(0.0.0.0 includes 192.168.1.2) at broker.listeners[0] (line 3)"
        ),
        .init(
            yaml: "broker:\n  listeners:\n    - port: 1883\n      certificate: x\n",
            path: "broker.listeners[0].certificate",
            line: 4,
            column: 7,
            message:
                "unknown key 'certificate' in 'broker.listeners[0]'; the keys here are 'name', 'bind', 'port', 'protocol',"
                + " 'tls', 'use_identity_as_username'"
        ),
        // adapters
        .init(
            yaml: "adapters:\n  name: plc\n", path: "adapters", line: 2, column: 3,
            message: "expected a list (lines starting with '- '), got a mapping"
        ),
        .init(
            yaml: "adapters:\n  - type: modbus\n", path: "adapters[0].name", line: 2, column: 5,
            message: "missing required key 'name' (a unique name for this adapter, such as 'plc-1', made of "
                + "lowercase letters, digits, '_' and '-')"
        ),
        .init(
            yaml: "adapters:\n  - name: plc\n", path: "adapters[0].type", line: 2, column: 5,
            message: "missing required key 'type' (which adapter runs this entry, such as 'modbus' or 'coap')"
        ),
        .init(
            yaml: "adapters:\n  - name: PLC\n    type: modbus\n", path: "adapters[0].name", line: 2, column: 11,
            message: "expected a name made of lowercase letters, digits, '_' and '-', got \"PLC\""
        ),
        .init(
            yaml: "adapters:\n  - name: plc\n    type: Mod Bus\n", path: "adapters[0].type", line: 3, column: 11,
            message: "expected an adapter type made of lowercase letters, digits, '_' and '-', got \"Mod Bus\""
        ),
        .init(
            yaml: "adapters:\n  - name: plc\n    type: modbus\n    enabled: sometimes\n", path: "adapters[0].enabled",
            line: 4, column: 14, message: "expected true or false, got \"sometimes\""
        ),
        .init(
            yaml: "adapters:\n  - {name: plc, type: modbus}\n  - {name: plc, type: coap}\n", path: "adapters[1].name",
            line: 3, column: 12,
            message: "adapter name 'plc' is already used by adapters[0] (line 2); names must be unique"
        ),
        // document shape
        .init(
            yaml: "- broker\n", path: "", line: 1, column: 1,
            message:
                "expected a mapping of sections (gateway, log, storage, broker, uplink, adapters, admin, remote_config), "
                + "got a list"
        ),
        .init(
            yaml: "broker: 5\n", path: "broker", line: 1, column: 9,
            message: "expected a mapping of settings (indented 'key: value' lines), got 5"
        ),
    ]

    @Test(arguments: cases)
    func eachProblemIsReportedWithItsPathAndPosition(_ invalid: InvalidCase) {
        let found = issues(of: invalid.yaml)
        #expect(found.count == 1, "\(found)")
        guard let issue = found.first else { return }
        #expect(issue.path == invalid.path)
        #expect(issue.line == invalid.line)
        #expect(issue.column == invalid.column)
        #expect(issue.message == invalid.message)
        #expect(issue.file == "wharf.yaml")
    }

    @Test func wildcardListenersOnlyClashWithTheirFamily() {
        let yaml = "broker:\n  listeners:\n    - bind: 0.0.0.0\n    - bind: '::'\n    - bind: '::1'\n      port: 1884\n"
        #expect(loadValid(yaml)?.broker.listeners.count == 3)
        let clash = issues(of: "broker:\n  listeners:\n    - bind: '::'\n    - bind: 'fe80::1%eth0'\n")
        #expect(clash.map(\.path) == ["broker.listeners[1]"])
    }

    @Test(
        arguments: [
            ("127.0.0.1", true), ("0.0.0.0", true), ("::", true), ("::1", true), ("fe80::1%eth0", true),
            ("2001:db8::8a2e:370:7334", true), ("::ffff:192.0.2.1", true), ("1:2:3:4:5:6:7:8", true),
            ("gateway.local", true), ("localhost", true), ("1.2.3", false), ("256.0.0.1", false),
            ("1:2:3:4:5:6:7:8:9", false), ("1::2::3", false), ("[::1]", false), ("-bad.example", false),
            ("has space", false), ("", false), ("12345", false),
        ]
    )
    func bindAddresses(address: String, valid: Bool) {
        let yaml = "broker:\n  listeners:\n    - bind: '\(address)'\n"
        let loaded = (try? ConfigLoader.load(yaml: yaml, file: "wharf.yaml").get()) != nil
        #expect(loaded == valid)
    }
}
