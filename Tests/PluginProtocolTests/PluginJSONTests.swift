import NIOCore
import PluginProtocol
import PropertyBased
import Testing

@Suite struct PluginJSONTests {
    @Test func parsesEveryKind() throws {
        let value = try PluginJSON.parse(
            #" {"a":[null,true,false,0,-7,1.5,2e3,"s"],"b":{},"c":[], "a":9223372036854775808} "#)
        #expect(
            value
                == .object([
                    (
                        "a",
                        .array([
                            .null, .bool(true), .bool(false), .integer(0), .integer(-7), .number(1.5), .number(2000),
                            .string("s"),
                        ])
                    ),
                    ("b", .object([])),
                    ("c", .array([])),
                    ("a", .number(9_223_372_036_854_775_808)),
                ]))
        // Lookup takes the last of a repeated key.
        #expect(value["a"] == .number(9_223_372_036_854_775_808))
        #expect(try PluginJSON.parse("-9223372036854775808") == .integer(Int64.min))
    }

    @Test(arguments: [
        "", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "'a'", "01", "1.", ".5", "-", "1e", "+1", "tru",
        "nul", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\u{01}b\"", "[1] [2]",
        "\"unterminated", "NaN", "Infinity",
    ])
    func rejectsInvalidJSON(text: String) {
        #expect(throws: PluginJSON.ParseError.self) { try PluginJSON.parse(text) }
    }

    @Test func nestingIsLimited() throws {
        let deep = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try PluginJSON.parse(deep) }
        let tooDeep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: PluginJSON.ParseError.self) { try PluginJSON.parse(tooDeep) }
        // A hostile line a hundred thousand levels deep is refused, not a stack overflow.
        let hostile = #"{"type":"log","message":"x","junk":"# + String(repeating: "[", count: 100_000)
        #expect(failure(hostile)?.kind == .invalidJSON)
        let hostileObjects = #"{"type":"log","message":"x","junk":"# + String(repeating: #"{"a":"#, count: 100_000)
        #expect(failure(hostileObjects)?.kind == .invalidJSON)
    }

    @Test func surrogatePairsDecodeToOneScalar() throws {
        #expect(try PluginJSON.parse(#""\ud83d\ude00\u00e9\u20ac""#) == .string("😀é€"))
    }

    @Test func controlCharactersQuotesAndBackslashesAreEscaped() {
        let text = "a\"b\\c\n\r\t\u{08}\u{0C}\u{00}\u{1F}\u{7F}é😀/"
        #expect(PluginJSON.string(text).jsonText == #""a\"b\\c\n\r\t\b\f\u0000\u001f"# + "\u{7F}é😀/\"")
    }

    @Test func nonFiniteNumbersAreWrittenAsNull() {
        #expect(PluginJSON.array([.number(.infinity), .number(.nan), .number(0.1)]).jsonText == "[null,null,0.1]")
    }

    @Test func anyStringRoundTrips() async {
        await propertyCheck(count: 300, input: TestGen.string(of: 0...40)) { text in
            let written = PluginJSON.string(text).jsonText
            #expect(!written.utf8.contains(where: { $0 < 0x20 }), "raw control character in \(written)")
            #expect((try? PluginJSON.parse(written)) == .string(text))
        }
    }

    @Test func anyTreeRoundTrips() async {
        let leaf = zip(Gen.int(in: 0...5), Gen.int64(in: .min ... .max), TestGen.string(of: 0...8)).map {
            pick, number, text -> PluginJSON in
            switch pick {
            case 0: .null
            case 1: .bool(number & 1 == 0)
            case 2: .integer(number)
            case 3: .number(Double(number) / 1024)
            default: .string(text)
            }
        }
        let member = zip(TestGen.string(of: 0...6), leaf).map { ($0, $1) }
        let tree = zip(member.array(of: 0...5), leaf.array(of: 0...5)).map { members, elements -> PluginJSON in
            .object(members + [("list", .array(elements)), ("nested", .object(members))])
        }
        await propertyCheck(count: 200, input: tree) { value in
            let parsed = try? PluginJSON.parse(value.jsonText)
            #expect(parsed == value)
            #expect(parsed?.hashValue == value.hashValue)
        }
    }
}

@Suite struct Base64Tests {
    @Test func knownValues() {
        #expect(Base64.encode([]) == "")
        #expect(Base64.encode(Array("f".utf8)) == "Zg==")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        #expect(Base64.encode(Array("foo".utf8)) == "Zm9v")
        #expect(Base64.encode([0xFB, 0xFF]) == "+/8=")
        #expect(Base64.decode("Zm8=") == Array("fo".utf8))
        #expect(Base64.decode("Zm8") == Array("fo".utf8))
        #expect(Base64.decode("") == [])
    }

    @Test(arguments: ["!!!", "Z", "Zm8==", "Zm=8", "Zh==", "Zm 8=", "Zm-_", "===="])
    func rejects(text: String) {
        #expect(Base64.decode(text) == nil)
    }

    @Test func anyBytesRoundTrip() async {
        await propertyCheck(count: 300, input: TestGen.bytes(of: 0...64)) { bytes in
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
    }
}
