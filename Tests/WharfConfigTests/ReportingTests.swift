import Testing
import WharfConfig

@Suite struct ReportingTests {
    /// The example of docs/configuration.md, kept true by this test.
    @Test func everyProblemIsReportedAtOnceInDocumentOrder() {
        let yaml = """
            broker:
              allow_anonymous: true
              max_connections: 100
              max_pakcet_size: 1MiB
              max_inflight_messages: "20"
              listeners:
                - name: default
                  bind: 127.0.0.1
                  port: 70000
            log:
              level: info
            max_connections: 5
            adapters:
              - {name: plc, type: modbus}
              - name: plc
                type: modbus

            """
        let error = ConfigError(issues: issues(of: yaml))
        #expect(
            error.description == """
                wharf.yaml:4:3: broker.max_pakcet_size: unknown key 'max_pakcet_size'; did you mean 'max_packet_size'?
                wharf.yaml:5:26: broker.max_inflight_messages: expected an integer from 1 to 65535, got "20"; \
                remove the quotes to make it a number
                wharf.yaml:9:13: broker.listeners[0].port: expected an integer from 1 to 65535, got 70000
                wharf.yaml:12:1: max_connections: 'max_connections' is not a setting at the top level; it belongs in 'broker'
                wharf.yaml:15:11: adapters[1].name: adapter name 'plc' is already used by adapters[0] (line 14); \
                names must be unique
                """
        )
    }

    @Test(
        arguments: [
            ("broker:\n  max_packet: 1\n", "unknown key 'max_packet'; did you mean 'max_packet_size'?"),
            ("broker:\n  maxConnections: 1\n", "unknown key 'maxConnections'; did you mean 'max_connections'?"),
            ("broker:\n  max-keepalive: 1\n", "unknown key 'max-keepalive'; did you mean 'max_keepalive'?"),
            ("broker:\n  alow_anonymous: true\n", "unknown key 'alow_anonymous'; did you mean 'allow_anonymous'?"),
            ("broker:\n  listners: []\n", "unknown key 'listners'; did you mean 'listeners'?"),
            ("brokr: {}\n", "unknown key 'brokr'; did you mean 'broker'?"),
            ("storage:\n  datadir: /x\n", "unknown key 'datadir'; did you mean 'data_dir'?"),
            ("log:\n  levle: info\n", "unknown key 'levle'; did you mean 'level'?"),
            ("sys_interval: 5s\n", "'sys_interval' is not a setting at the top level; it belongs in 'broker'"),
            ("log:\n  data_dir: /x\n", "'data_dir' is not a setting in 'log'; it belongs in 'storage'"),
            ("broker:\n  level: info\n", "'level' is not a setting in 'broker'; it belongs in 'log'"),
            (
                "max_conections: 5\n",
                "unknown key 'max_conections' at the top level; did you mean 'broker.max_connections'?"
            ),
            (
                "bogus: 1\n",
                "unknown key 'bogus' at the top level; the keys here are 'gateway', 'log', 'storage', 'broker', 'uplink', 'adapters', 'admin', 'remote_config'"
            ),
            (
                "gateway:\n  name: x\n",
                "unknown key 'name' in 'gateway'; the keys here are 'id'"
            ),
        ]
    )
    func unknownKeysGetAHint(yaml: String, message: String) {
        let found = issues(of: yaml)
        #expect(found.map(\.message) == [message])
        #expect(found.first?.line == yaml.split(separator: "\n").count)
    }

    @Test(
        arguments: [
            (
                "broker:\n\tmax_connections: 5\n", 2, 1,
                "invalid YAML: found character that cannot start any token (while scanning for the next token that "
                    + "starts at line 2, column 1); indent with spaces, not tabs"
            ),
            (
                "broker:\n  listeners: [a, b\nlog:\n", 3, 4,
                "invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence that starts at line 2, "
                    + "column 14)"
            ),
            (
                "broker:\n  max_connections: 5\n   sys_interval: 5s\n", 3, 16,
                "invalid YAML: mapping values are not allowed in this context; check the indentation, or put a value "
                    + "that contains ':' in quotes, such as \"::\""
            ),
            (
                "broker:\n  listeners:\n    - bind: ::\n", 3, 14,
                "invalid YAML: mapping values are not allowed in this context; check the indentation, or put a value "
                    + "that contains ':' in quotes, such as \"::\""
            ),
            (
                "broker:\n  max_connections: 5\n max_keepalive: 5\n", 3, 2,
                "invalid YAML: did not find expected key (while parsing a block mapping that starts at line 1, "
                    + "column 1); check that this line is indented like the keys next to it"
            ),
            (
                "broker:\n  allow_anonymous: true\n  max_connections: 1\n  allow_anonymous: false\n", 4, 3,
                "'allow_anonymous' is set twice in the same mapping (first on line 2); keep one"
            ),
            (
                "a: 1\n---\nb: 2\n", 2, 1,
                "invalid YAML: but found another document (expected a single document in the stream that starts at "
                    + "line 1, column 1); keep a single document: remove the extra '---' line"
            ),
            ("broker: *missing\n", 1, 9, "invalid YAML: found undefined alias"),
        ]
    )
    func syntaxErrorsGiveTheirPosition(yaml: String, line: Int, column: Int, message: String) {
        let found = issues(of: yaml)
        #expect(found.count == 1)
        #expect(found.first?.line == line)
        #expect(found.first?.column == column)
        #expect(found.first?.message == message)
        #expect(found.first?.path == "")
    }

    @Test func deepNestingIsRefusedBeforeParsing() {
        let yaml = "adapters: " + String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        let found = issues(of: yaml)
        #expect(found.map(\.message) == ["lists and mappings are nested more than 100 levels deep"])
        #expect(found.first?.column == 111)
        // Brackets inside quotes and comments do not count.
        let quoted =
            "gateway:\n  id: \"" + String(repeating: "[", count: 200) + "\"\n# " + String(repeating: "{", count: 200)
        #expect(issues(of: quoted).first?.path == "gateway.id")
        // Block nesting grows with indentation; compact "- - -" lists nest two columns per level.
        let compact = "adapters:\n" + String(repeating: "- ", count: 5000) + "x\n"
        #expect(issues(of: compact).first?.message == "lists and mappings are nested more than 100 levels deep")
        #expect(issues(of: compact).first?.line == 2)
        let indented = (0..<300).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n")
        #expect(issues(of: indented).first?.line == 202)
    }

    @Test func aliasExpansionIsBounded() {
        var yaml = "x-0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
        for level in 1...6 {
            let previous = "*a\(level - 1)"
            yaml += "x-\(level): &a\(level) [\(Array(repeating: previous, count: 10).joined(separator: ", "))]\n"
        }
        let found = issues(of: yaml)
        #expect(found.count == 1)
        #expect(found.first?.message == "the document has more than 100000 values (counting aliases)")
    }

    @Test func issueDescriptionsLeaveOutUnknownParts() {
        #expect(
            ConfigIssue(file: "wharf.yaml", line: 12, column: 11, path: "broker.listeners[0].port", message: "bad")
                .description == "wharf.yaml:12:11: broker.listeners[0].port: bad"
        )
        #expect(ConfigIssue(file: "f", line: 3, path: "", message: "bad").description == "f:3: bad")
        #expect(ConfigIssue(file: "push v7", path: "broker", message: "bad").description == "push v7: broker: bad")
        let error = ConfigError(issues: [
            ConfigIssue(file: "f", line: 1, column: 2, path: "a", message: "x"),
            ConfigIssue(file: "f", line: 3, column: 4, path: "b", message: "y"),
        ])
        #expect(error.description == "f:1:2: a: x\nf:3:4: b: y")
    }
}
