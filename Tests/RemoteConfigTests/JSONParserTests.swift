import Testing

@testable import RemoteConfig

@Suite struct JSONParserTests {
    private func error(_ text: String) -> JSONParseError? {
        if case .failure(let error) = JSONParser.parse(text) { return error }
        return nil
    }

    @Test func readsAllValueKinds() throws {
        let value = try JSONParser.parse(#" {"a": [1, -2.5e3, true, false, null, "x\u00e9\ud83d\ude00"]} "#).get()
        #expect(
            value
                == .object([
                    JSONMember(
                        "a",
                        .array([
                            .number(JSONNumber(1)), .number(JSONNumber(literal: "-2.5e3")!), .bool(true), .bool(false),
                            .null, .string("xé😀"),
                        ]))
                ]))
    }

    @Test func refusesDuplicateKeysWithTheirPath() {
        let found = error(#"{"config": {"adapters": [{"name": "a"}, {"name": "b", "name": "c"}]}}"#)
        #expect(found?.path == "config.adapters[1].name")
        #expect(found?.message == "duplicate key 'name'")
    }

    @Test func refusesCanonicallyEquivalentKeys() {
        // U+00E9 and "e" + U+0301 are one key to the configuration reader, so two to none.
        #expect(error("{\"\u{E9}\": 1, \"e\u{301}\": 2}")?.message.hasPrefix("duplicate key") == true)
    }

    @Test func refusesInvalidUTF8AndLoneSurrogates() {
        let bytes: [UInt8] = Array(#"{"a": ""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        guard case .failure(let bad) = JSONParser.parse(bytes) else {
            Issue.record("accepted invalid UTF-8")
            return
        }
        #expect(bad.path == "a")
        #expect(error(#"["\ud800"]"#)?.message == "lone surrogate escape")
        #expect(error(#"["\udc00x"]"#)?.message == "lone surrogate escape")
        // An overlong encoding of "/".
        #expect(JSONParser.parse([0x22, 0xC0, 0xAF, 0x22]).isFailure)
    }

    @Test func refusesWhatRFC8259Refuses() {
        for text in [
            "", "01", "1.", ".5", "-", "+1", "1e", "0x10", "[1,]", "{\"a\":1,}", "{'a':1}", "[1] [2]", "\"a\tb\"",
            "NaN", "Infinity", "tru", "\u{FEFF}{}", "{\"a\" 1}", "[\"\\x\"]", "1e400",
        ] {
            #expect(error(text) != nil, "accepted \(text.debugDescription)")
        }
    }

    @Test func limitsNesting() {
        let deep =
            String(repeating: "[", count: JSONParser.maximumDepth + 1)
            + String(repeating: "]", count: JSONParser.maximumDepth + 1)
        #expect(error(deep)?.message.contains("nested more than") == true)
        let limit =
            String(repeating: "[", count: JSONParser.maximumDepth)
            + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect(error(limit) == nil)
    }

    @Test func keepsBigIntegersExact() throws {
        let value = try JSONParser.parse("[123456789012345678901234567890, 9007199254740993]").get()
        guard case .array(let numbers) = value, case .number(let big) = numbers[0], case .number(let next) = numbers[1]
        else {
            Issue.record("not an array of numbers")
            return
        }
        #expect(big.literal == "123456789012345678901234567890")
        #expect(big.intValue == nil)
        #expect(next.intValue == 9_007_199_254_740_993)
    }

    @Test func reportsLineAndColumn() {
        let found = error("{\n  \"a\": [1,\n    x]\n}")
        #expect(found?.line == 3)
        #expect(found?.column == 5)
        #expect(found?.path == "a[1]")
    }
}

extension Result {
    var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }
}
