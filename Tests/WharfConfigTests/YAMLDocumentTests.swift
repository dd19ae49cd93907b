import Testing
import WharfConfig

/// The YAML reader on the cases where YAML is tricky, through the loader's public interface:
/// values, positions and messages as an installer sees them.
@Suite struct YAMLDocumentTests {
    // MARK: Anchors and aliases

    @Test func aliasesRepeatTheAnchoredValueAtTheAliasPosition() throws {
        let yaml = """
            x-port: &port 1884
            x-lan: &lan {bind: 10.0.0.1, port: *port}
            broker:
              listeners:
                - *lan
                - {name: alt, bind: 127.0.0.1, port: *port}

            """
        let configuration = try #require(loadValid(yaml))
        #expect(
            configuration.broker.listeners == [
                ListenerConfig(name: "10.0.0.1:1884", bind: "10.0.0.1", port: 1884),
                ListenerConfig(name: "alt", bind: "127.0.0.1", port: 1884),
            ]
        )
        // The alias takes the anchored node's value and its position: where the value is written.
        let tree = try ConfigLoader.parse(yaml: yaml, file: "wharf.yaml").get()
        let port = try #require(tree["broker"]?["listeners"]?[1]?["port"])
        #expect(port.value == 1884)
        #expect(port.path == "broker.listeners[1].port")
        #expect(port.line == 1)
        #expect(port.column == 9)
    }

    @Test func aScalarAlsoUsedAsAKeyIsText() throws {
        // Keys are compared as text: an anchored scalar that is also a key stays text as a value.
        let tree = try ConfigLoader.parse(
            yaml: "a: &n 7\nb: *n\nc: &k 8\n? *k\n: x\nd: *k\ne: &y yes\n*y : 1\n", file: "f"
        ).get()
        #expect(tree["a"]?.content == .int(7))
        #expect(tree["b"]?.content == .int(7))
        #expect(tree["c"]?.content == .string("8"))
        #expect(tree["d"]?.content == .string("8"))
        #expect(tree["e"]?.content == .string("yes"))
        #expect(tree["8"]?.content == .string("x"))
    }

    @Test func aLaterAnchorOfTheSameNameWinsFromThereOn() throws {
        let tree = try ConfigLoader.parse(yaml: "a: &x 1\nb: *x\nc: &x 2\nd: *x\n", file: "f").get()
        #expect(tree.value == ["a": 1, "b": 1, "c": 2, "d": 2])
    }

    @Test(
        arguments: [
            ("broker: *missing\n", 1, 9),
            // An alias before its anchor, and an anchor used inside the node it names.
            ("a: *x\nb: &x 1\n", 1, 4),
            ("a: &x [1, *x]\n", 1, 11),
        ]
    )
    func anAliasWithoutItsAnchorIsRefusedWhereItIs(yaml: String, line: Int, column: Int) {
        let found = issues(of: yaml)
        #expect(found.map(\.message) == ["invalid YAML: found undefined alias"])
        #expect(found.first?.line == line)
        #expect(found.first?.column == column)
    }

    @Test func anAliasBombUsedAsAKeyIsRefusedWithoutExpandingIt() {
        // The first key holds ten lists that stand for 10^10 values between them; the second
        // names the same lists. Comparing the two keys must not walk those values.
        var lists = ["&a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
        for level in 1...9 {
            lists.append("&a\(level) [\(Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", "))]")
        }
        let aliases = (0...9).map { "*a\($0)" }.joined(separator: ", ")
        let yaml = "x-keys:\n  ? [\(lists.joined(separator: ", "))]\n  : 1\n  ? [\(aliases)]\n  : 2\n"
        let found = issues(of: yaml)
        #expect(found.map(\.message) == Array(repeating: "a key must be a plain name, not a list or mapping", count: 2))
        #expect(found.map { [$0.line, $0.column] } == [[2, 5], [4, 5]])
    }

    // MARK: Merge keys

    @Test func mergeKeysTakeEarlierSourcesAndOwnKeysFirst() throws {
        let yaml = """
            x-a: &a {bind: 10.0.0.1, port: 1001}
            x-b: &b {bind: 10.0.0.2, port: 1002, name: from-b}
            broker:
              listeners:
                - <<: [*a, *b]
                - name: own
                  <<: *b
                  port: 2000

            """
        let configuration = try #require(loadValid(yaml))
        #expect(
            configuration.broker.listeners == [
                ListenerConfig(name: "from-b", bind: "10.0.0.1", port: 1001),
                ListenerConfig(name: "own", bind: "10.0.0.2", port: 2000),
            ]
        )
    }

    @Test func aMergeOfSomethingElseThanMappingsIsExplained() {
        let found = issues(of: "broker:\n  <<: [1, 2]\n")
        #expect(found.map(\.message) == ["'<<' merges a mapping or a list of mappings, such as '<<: *defaults'"])
        #expect(found.first?.line == 2)
        #expect(found.first?.column == 7)
    }

    @Test func aQuotedMergeKeyIsAnOrdinaryKey() {
        let found = issues(of: "broker:\n  \"<<\": {max_connections: 5}\n")
        #expect(found.first?.message.hasPrefix("unknown key '<<'") == true)
        #expect(found.first?.path == #"broker["<<"]"#)
    }

    // MARK: Multi-line strings

    @Test func blockScalarsKeepOrFoldTheirLinesAsTheirIndicatorsSay() throws {
        let yaml = """
            literal: |
              one
               two

            clip: >
              folded
              line

              paragraph
            strip: |-
              no newline
            keep: >+
              kept

            indented: |2
                four spaces
            quoted: "first
              second"
            after: 1

            """
        let tree = try ConfigLoader.parse(yaml: yaml, file: "f").get()
        #expect(tree["literal"]?.value == "one\n two\n")
        #expect(tree["clip"]?.value == "folded line\nparagraph\n")
        #expect(tree["strip"]?.value == "no newline")
        #expect(tree["keep"]?.value == "kept\n\n")
        #expect(tree["indented"]?.value == "  four spaces\n")
        #expect(tree["quoted"]?.value == "first second")
        #expect(tree["after"]?.line == 19)
        // A block scalar starts at its indicator and counts as quoted: `|` then `5` is text.
        #expect(tree["literal"]?.line == 1)
        #expect(tree["literal"]?.column == 10)
        #expect(tree["literal"]?.isQuoted == true)
        let number = try ConfigLoader.parse(yaml: "a: |\n  5\n", file: "f").get()
        #expect(number["a"]?.value == "5\n")
    }

    // MARK: Flow style

    @Test func flowCollectionsGivePositionsInsideTheLine() throws {
        let yaml = "adapters: [{name: a, type: exec, command: /bin/true, args: [x, 'y', \"z\",]}]\n"
        let tree = try ConfigLoader.parse(yaml: yaml, file: "f").get()
        let adapter = try #require(tree["adapters"]?[0])
        #expect(adapter.column == 12)
        #expect(adapter["args"]?.value == ["x", "y", "z"])
        #expect(adapter["args"]?[2]?.column == 69)
        #expect(adapter["args"]?[2]?.isQuoted == true)
        #expect(tree["adapters"]?[0]?["type"]?.column == 28)
    }

    @Test func anUnclosedFlowSequenceIsReportedWhereTheParserStopped() {
        let found = issues(of: "broker:\n  listeners: [{bind: a}\n")
        #expect(found.first?.line == 3)
        #expect(
            found.first?.message
                == "invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence that starts at line 2, "
                + "column 14)"
        )
    }

    // MARK: Tabs

    @Test func tabsSeparateValuesButDoNotIndent() throws {
        let tree = try ConfigLoader.parse(yaml: "a:\tb\nc: [d,\te]\n", file: "f").get()
        #expect(tree.value == ["a": "b", "c": ["d", "e"]])
        let found = issues(of: "broker:\n  listeners:\n\t- bind: x\n")
        #expect(found.first?.line == 3)
        #expect(found.first?.message.hasSuffix("; indent with spaces, not tabs") == true)
    }

    // MARK: Byte order mark

    @Test func aByteOrderMarkIsSkipped() throws {
        // Editors on Windows start UTF-8 files with one; it takes no column.
        let configuration = try #require(
            loadValid("\u{FEFF}broker:\n  max_connections: 5\nlog:\n  level: debug\n"))
        #expect(configuration.broker.maxConnections == 5)
        #expect(configuration.log.level == .debug)
        let found = issues(of: "\u{FEFF}brokr: {}\nlog:\n  levle: info\n")
        #expect(found.map { [$0.line, $0.column] } == [[1, 1], [3, 3]])
        // Offsets of unreadable characters still count it.
        let control = issues(of: "\u{FEFF}a: \u{1}\n")
        #expect(control.map { [$0.line, $0.column] } == [[1, 5]])
    }

    // MARK: Duplicate keys

    @Test func aKeyWrittenTwiceIsRefusedAtItsSecondSpelling() {
        let found = issues(of: "broker:\n  max_connections: 1\n  sys_interval: 5\n  max_connections: 2\n")
        #expect(
            found.map(\.message) == ["'max_connections' is set twice in the same mapping (first on line 2); keep one"])
        #expect(found.first?.line == 4)
        #expect(found.first?.column == 3)
        // The same key in quotes is the same key; the message then points at the first spelling.
        let quoted = issues(of: "broker:\n  max_connections: 1\n  'max_connections': 2\n")
        #expect(quoted.map(\.message) == ["'max_connections' is set more than once in the same mapping; keep one"])
        #expect(quoted.first?.line == 2)
        #expect(quoted.first?.column == 3)
    }

    @Test func theInnermostDuplicateIsFoundFirstAndTheSmallestKeyNamed() {
        let inner = issues(of: "b: 1\nb: 2\nbroker:\n  x: 1\n  x: 2\n")
        #expect(inner.first?.message == "'x' is set twice in the same mapping (first on line 4); keep one")
        let sorted = issues(of: "b: 1\na: 1\nb: 2\na: 2\n")
        #expect(sorted.first?.message == "'a' is set twice in the same mapping (first on line 2); keep one")
    }

    @Test func aDuplicateInAFlowMappingIsReportedAtTheFirstSpelling() {
        let found = issues(of: "broker: {max_connections: 1, max_connections: 2}\n")
        #expect(found.map(\.message) == ["'max_connections' is set more than once in the same mapping; keep one"])
        #expect(found.first?.line == 1)
        #expect(found.first?.column == 10)
    }

    @Test func aDuplicateAfterASyntaxErrorIsNotReached() {
        let found = issues(of: "a: 1\na: 2\nb: [\n")
        #expect(found.first?.message.hasPrefix("invalid YAML:") == true)
    }

    // MARK: Nesting

    @Test(arguments: [101, 5_000])
    func nestingBeyondTheLimitIsRefusedBeforeParsing(depth: Int) {
        let flow = "x-deep: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n"
        #expect(issues(of: flow).map(\.message) == ["lists and mappings are nested more than 100 levels deep"])
        #expect(issues(of: flow).first?.column == 9 + 100)
    }

    @Test func blockNestingFarBeyondTheLimitIsRefusedBeforeParsing() {
        let block = (0..<1_000).map { String(repeating: " ", count: $0 * 2) + "k\($0):" }.joined(separator: "\n")
        #expect(issues(of: block).map(\.message) == ["lists and mappings are nested more than 100 levels deep"])
        #expect(issues(of: block).first?.line == 102)
    }

    @Test func nestingAtTheLimitIsRead() throws {
        let depth = 100
        let flow = "x-deep: " + String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth) + "\n"
        var node = try #require(try ConfigLoader.parse(yaml: flow, file: "f").get()["x-deep"])
        for _ in 0..<depth { node = try #require(node[0]) }
        #expect(node.value == 1)
    }

    // MARK: Size

    @Test func aTenMegabyteDocumentIsReadWithItsPositions() throws {
        // 10 MiB of text in a literal block, then a setting and a mistake after it.
        let line = String(repeating: "0123456789abcdef", count: 4) + "\n"
        let lines = 10 * 1024 * 1024 / line.utf8.count
        let yaml =
            "x-notes: |\n" + String(repeating: "  " + line, count: lines)
            + "broker:\n  max_connections: 7\n  max_keepalive: -1\n"
        #expect(yaml.utf8.count > 10_000_000)
        let found = issues(of: yaml)
        #expect(found.map(\.path) == ["broker.max_keepalive"])
        #expect(found.first?.line == lines + 4)
        #expect(found.first?.column == 18)
        let tree = try ConfigLoader.parse(yaml: yaml, file: "f").get()
        #expect(tree["x-notes"]?.text?.utf8.count == lines * line.utf8.count)
        #expect(tree["broker"]?["max_connections"]?.value == 7)
    }

    // MARK: Text that is not YAML's

    @Test func textDecodedFromInvalidUTF8KeepsItsReplacementCharacters() throws {
        let bytes: [UInt8] = Array("gateway:\n  id: gw-".utf8) + [0xFF, 0xC3] + Array("\n".utf8)
        let tree = try ConfigLoader.parse(yaml: String(decoding: bytes, as: UTF8.self), file: "f").get()
        #expect(tree["gateway"]?["id"]?.value == "gw-\u{FFFD}\u{FFFD}")
    }

    @Test func aControlCharacterIsRefusedWhereItIs() {
        let found = issues(of: "gateway:\n  id: \"gw\u{1}\"\n")
        #expect(found.map(\.message) == ["cannot read the text: control characters are not allowed"])
        #expect(found.first?.line == 2)
        #expect(found.first?.column == 10)
    }

    // MARK: Documents

    @Test(arguments: ["", "\n", "# only a comment\n", "---\n", "--- ~\n", "---\n...\n", "%YAML 1.1\n---\n"])
    func anEmptyDocumentIsTheDefaults(yaml: String) {
        #expect(loadValid(yaml) == .default)
    }

    @Test func oneDocumentMayHaveItsMarkers() throws {
        let configuration = try #require(loadValid("---\nbroker:\n  max_connections: 3\n...\n"))
        #expect(configuration.broker.maxConnections == 3)
    }

    @Test(
        arguments: [
            ("a: 1\n---\nb: 2\n", 2, 1),
            ("---\na: 1\n...\n---\nb: 2\n", 4, 1),
            ("--- 1\n--- 2\n--- 3\n", 2, 1),
        ]
    )
    func aSecondDocumentIsRefusedWhereItStarts(yaml: String, line: Int, column: Int) {
        let found = issues(of: yaml)
        #expect(found.count == 1)
        #expect(found.first?.message.hasPrefix("invalid YAML: but found another document") == true)
        #expect(found.first?.line == line)
        #expect(found.first?.column == column)
    }
}
