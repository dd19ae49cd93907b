import Testing

@testable import WharfConfig

/// The composer over libyaml's events, below the schema: nodes, tags, styles, marks, errors.
@Suite struct YAMLComposerTests {
    private func compose(_ text: String) throws(YAMLError) -> YAMLNode? {
        try YAMLComposer.compose(text)?.root
    }

    private func scalar(_ node: YAMLNode?) -> (String, YAMLScalarStyle)? {
        guard case .scalar(let text, let style)? = node?.content else { return nil }
        return (text, style)
    }

    private func pairs(_ node: YAMLNode?) -> [YAMLPair] {
        guard case .mapping(let pairs)? = node?.content else { return [] }
        return pairs
    }

    private func items(_ node: YAMLNode?) -> [YAMLNode] {
        guard case .sequence(let items)? = node?.content else { return [] }
        return items
    }

    @Test func scalarsKeepTheirStyleAndTag() throws {
        let root = try compose("- a\n- 'b'\n- \"c\"\n- |\n  d\n- >\n  e\n- !!int 5\n- ! f\n- !!str\n- !local g\n")
        let nodes = items(root)
        #expect(
            nodes.map { scalar($0)?.1 } == [
                .plain, .singleQuoted, .doubleQuoted, .literal, .folded, .plain, .plain, .plain, .plain,
            ])
        #expect(
            nodes.map(\.tag) == [
                "", YAMLTag.string, YAMLTag.string, YAMLTag.string, YAMLTag.string, YAMLTag.int, "!", YAMLTag.string,
                "!local",
            ])
        #expect(nodes.map { scalar($0)?.0 } == ["a", "b", "c", "d\n", "e\n", "5", "f", "", "g"])
        #expect(nodes.map(\.mark) == [1, 2, 3, 4, 6, 8, 9, 10, 11].map { YAMLMark(line: $0, column: 3) })
    }

    @Test func collectionsStartAtTheirFirstCharacter() throws {
        let root = try compose("a:\n  - {b: [1]}\n")
        #expect(root?.mark == YAMLMark(line: 1, column: 1))
        let list = pairs(root).first?.value
        #expect(list?.mark == YAMLMark(line: 2, column: 3))
        let mapping = items(list).first
        #expect(mapping?.mark == YAMLMark(line: 2, column: 5))
        #expect(pairs(mapping).first?.value.mark == YAMLMark(line: 2, column: 9))
        #expect(pairs(mapping).first?.value.tag == "")
    }

    @Test func anAliasIsItsAnchorsNode() throws {
        let root = try compose("a: &x {b: 'c'}\nd: *x\n")
        let members = pairs(root)
        #expect(members.count == 2)
        #expect(scalar(pairs(members[1].value).first?.value)?.0 == "c")
        // At the anchor's position: the alias shares the node.
        #expect(members[1].value.mark == YAMLMark(line: 1, column: 4))
    }

    @Test func scalarTextMayHoldNul() throws {
        #expect(scalar(try compose("\"a\\0b\"\n"))?.0 == "a\u{0}b")
    }

    @Test func aByteOrderMarkStartingAScalarIsDropped() throws {
        let nodes = items(try compose("- '\u{FEFF}a'\n- 'b\u{FEFF}'\n- \"\\uFEFF\\uFEFFc\"\n"))
        #expect(nodes.map { scalar($0)?.0 } == ["a", "b\u{FEFF}", "\u{FEFF}c"])
    }

    @Test func nodesInKeysAreNotedOnceEach() throws {
        let document = try #require(try YAMLComposer.compose("a: &v 1\n? [*v, {b: c}]\n: *v\nd: e\n"))
        let top = pairs(document.root)
        let key = items(top[1].key)
        // The keys `a`, `d`, the list and what it holds; not `e`, a value only.
        var expected: Set<Int> = [top[0].key.id, top[2].key.id, top[1].key.id, key[0].id, key[1].id]
        for pair in pairs(key[1]) { expected.formUnion([pair.key.id, pair.value.id]) }
        #expect(document.keyNodes == expected)
        // `*v` is the node in the key.
        #expect(document.keyNodes.contains(top[1].value.id))
        #expect(!document.keyNodes.contains(top[2].value.id))
    }

    @Test func nestingTheConfigurationRefusesIsComposed() throws {
        // Deeper than the configuration allows (100), as deep as libyaml in this test binary goes:
        // the copy of libyaml that Yams compiles in, which the linker prefers, stops at 1,000.
        let depth = 999
        var node = try compose(String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
        var levels = 1
        while let first = items(node).first {
            node = first
            levels += 1
        }
        #expect(levels == depth)
        #expect(items(node).isEmpty)
    }

    @Test func duplicateKeysCompareByTextAndTag() throws {
        // A plain and a quoted spelling are one key; `!!int 1` is another key than `1`.
        #expect(throws: YAMLError.duplicateKey("a", first: YAMLMark(line: 1, column: 1))) {
            try compose("a: 1\n\"a\": 2\n")
        }
        #expect(pairs(try compose("1: a\n!!int 1: b\n")).count == 2)
        // Canonically equivalent spellings are the same key.
        #expect(throws: YAMLError.duplicateKey("\u{E9}", first: YAMLMark(line: 1, column: 1))) {
            try compose("\u{E9}: 1\ne\u{301}: 2\n")
        }
        // Of several duplicated keys, the one first in text order is named.
        #expect(throws: YAMLError.duplicateKey("a", first: YAMLMark(line: 2, column: 1))) {
            try compose("b: 1\na: 1\nb: 2\na: 2\n")
        }
    }

    @Test func listsAndMappingsAsKeysAreComparedWhole() throws {
        #expect(throws: YAMLError.duplicateKey(nil, first: YAMLMark(line: 1, column: 3))) {
            try compose("? [a, {b: c}]\n: 1\n? [a, {b: c}]\n: 2\n")
        }
        #expect(pairs(try compose("? [a, {b: c}]\n: 1\n? [a, {b: d}]\n: 2\n")).count == 2)
        let found = issues(of: "x-k:\n  ? [a]\n  : 1\n  ? [a]\n  : 2\n")
        #expect(
            found.map(\.message) == ["a list or mapping is used more than once as a key in the same mapping; keep one"])
        #expect(found.map { [$0.line, $0.column] } == [[2, 5]])
    }

    @Test func comparingKeysIsBounded() throws {
        // Two keys that each stand for 10^8 values: equal, but too costly to compare.
        var yaml = "x: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
        for level in 1...7 {
            yaml += "x\(level): &a\(level) [\(Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", "))]\n"
        }
        yaml += "k:\n  ? *a7\n  : 1\n  ? *a7\n  : 2\n"
        let root = try compose(yaml)
        #expect(pairs(pairs(root).last?.value).count == 2)
    }

    @Test func errorsCarryLibyamlsWordsAndPositions() {
        #expect(
            throws: YAMLError.syntax(
                problem: "did not find expected ',' or ']'",
                mark: YAMLMark(line: 3, column: 1),
                context: YAMLErrorContext(text: "while parsing a flow sequence", mark: YAMLMark(line: 2, column: 14))
            )
        ) { try compose("broker:\n  listeners: [{bind: a}\n") }
        #expect(
            throws: YAMLError.syntax(problem: "found undefined alias", mark: YAMLMark(line: 1, column: 4), context: nil)
        ) {
            try compose("a: *b\n")
        }
        #expect(throws: YAMLError.reader(problem: "control characters are not allowed", offset: 5)) {
            try compose("a: \"x\u{1}\"\n")
        }
    }

    @Test func bytesThatAreNotUTF8AreRefusedByTheReader() throws {
        for bytes: [UInt8] in [[0x61, 0x3A, 0x20, 0xFF, 0x0A], [0x61, 0x3A, 0x20, 0xC3], [0xC0, 0x80]] {
            let error = #expect(throws: YAMLError.self) {
                try bytes.withUnsafeBufferPointer { buffer throws(YAMLError) in
                    let reader = try YAMLEventReader(bytes: buffer, text: "")
                    while !reader.streamEndProduced { _ = try reader.next() }
                }
            }
            guard case .reader(let problem, _)? = error else {
                Issue.record("expected a reader error, got \(String(describing: error))")
                continue
            }
            #expect(problem.contains("UTF-8"))
        }
    }

    @Test(arguments: [
        ("true", true), ("Yes", true), ("ON", true), ("tRuE", true), ("no", false), ("Off", false), ("FALSE", false),
    ])
    func booleansInAnyCase(text: String, value: Bool) {
        #expect(PlainScalar.bool(text) == value)
    }

    @Test func notBooleans() {
        for text in ["y", "n", "1", "", "truee", "o n"] { #expect(PlainScalar.bool(text) == nil, "\(text)") }
    }

    @Test func floats() throws {
        #expect(PlainScalar.double(".inf") == .infinity)
        #expect(PlainScalar.double("+.Inf") == .infinity)
        #expect(PlainScalar.double("-.INF") == -.infinity)
        #expect(try #require(PlainScalar.double(".NaN")).isNaN)
        #expect(PlainScalar.double("1_000.5") == 1000.5)
        #expect(PlainScalar.double("6.8523015e+5") == 685_230.15)
        #expect(PlainScalar.double("1e400") == .infinity)
        #expect(PlainScalar.double("-.nan") == nil)
        #expect(PlainScalar.double("1.5x") == nil)
        #expect(PlainScalar.double("") == nil)
    }

    @Test func taggedScalarsAreTypedByTheirTag() throws {
        let tree = try ConfigLoader.parse(
            yaml: """
                a: !!int "12"
                b: !!float "1.5"
                c: !!float 1.5
                d: !!bool "on"
                e: !!bool maybe
                f: !!null "x"
                g: !!str 5
                h: ! 5
                i: 99999999999999999999
                j: !!float .Inf

                """,
            file: "f"
        ).get()
        #expect(tree["a"]?.content == .int(12))
        #expect(tree["b"]?.content == .string("1.5"))
        #expect(tree["c"]?.content == .double(1.5))
        #expect(tree["d"]?.content == .bool(true))
        #expect(tree["e"]?.content == .string("maybe"))
        #expect(tree["f"]?.content == .null)
        #expect(tree["g"]?.content == .string("5"))
        #expect(tree["h"]?.content == .string("5"))
        #expect(tree["i"]?.content == .double(1e20))
        #expect(tree["j"]?.content == .double(.infinity))
    }
}
