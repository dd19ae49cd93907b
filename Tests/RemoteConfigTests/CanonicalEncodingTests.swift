import PropertyBased
import Testing

@testable import RemoteConfig

@Suite struct CanonicalEncodingTests {
    private func canonical(_ text: String) throws -> String {
        try JSONParser.parse(text).get().canonicalText().get()
    }

    /// RFC 8785 §3.2.2.
    @Test func rfc8785Example() throws {
        let input = #"""
            {
              "numbers": [333333333.33333329, 1E30, 4.50,
                          2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """#
        let expected =
            #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        #expect(try canonical(input) == expected)
    }

    /// RFC 8785 §3.2.3: keys sorted by UTF-16 code units (the emoji's surrogates sort before U+FB33).
    @Test func rfc8785SortingExample() throws {
        let input = #"""
            {
              "\u20ac": "Euro Sign",
              "\r": "Carriage Return",
              "\ufb33": "Hebrew Letter Dalet With Dagesh",
              "1": "One",
              "\ud83d\ude00": "Emoji: Grinning Face",
              "\u0080": "Control",
              "\u00f6": "Latin Small Letter O With Diaeresis"
            }
            """#
        let expected =
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\","
            + "\"\u{F6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20AC}\":\"Euro Sign\","
            + "\"\u{1F600}\":\"Emoji: Grinning Face\",\"\u{FB33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        #expect(try canonical(input) == expected)
    }

    /// RFC 8785 Appendix B: IEEE 754 bit patterns and their ECMAScript text.
    @Test(
        arguments: [
            (0x0000_0000_0000_0000, "0"), (0x8000_0000_0000_0000, "0"), (0x0000_0000_0000_0001, "5e-324"),
            (0x8000_0000_0000_0001, "-5e-324"), (0x7FEF_FFFF_FFFF_FFFF, "1.7976931348623157e+308"),
            (0xFFEF_FFFF_FFFF_FFFF, "-1.7976931348623157e+308"), (0x4340_0000_0000_0000, "9007199254740992"),
            (0xC340_0000_0000_0000, "-9007199254740992"), (0x4430_0000_0000_0000, "295147905179352830000"),
            (0x44B5_2D02_C7E1_4AF5, "9.999999999999997e+22"), (0x44B5_2D02_C7E1_4AF6, "1e+23"),
            (0x44B5_2D02_C7E1_4AF7, "1.0000000000000001e+23"), (0x444B_1AE4_D6E2_EF4E, "999999999999999700000"),
            (0x444B_1AE4_D6E2_EF4F, "999999999999999900000"), (0x444B_1AE4_D6E2_EF50, "1e+21"),
            (0x3EB0_C6F7_A0B5_ED8C, "9.999999999999997e-7"), (0x3EB0_C6F7_A0B5_ED8D, "0.000001"),
            (0x41B3_DE43_5555_5553, "333333333.3333332"), (0x41B3_DE43_5555_5554, "333333333.33333325"),
            (0x41B3_DE43_5555_5555, "333333333.3333333"), (0x41B3_DE43_5555_5556, "333333333.3333334"),
            (0x41B3_DE43_5555_5557, "333333333.33333343"), (0xBECB_F647_612F_3696, "-0.0000033333333333333333"),
            (0x4314_3FF3_C1CB_0959, "1424953923781206.2"),
        ] as [(UInt64, String)])
    func rfc8785Numbers(bits: UInt64, expected: String) {
        #expect(ECMAScriptNumber.format(Double(bitPattern: bits)) == expected)
    }

    @Test func refusesNumbersThatCannotBeCanonicalExactly() {
        for text in ["9007199254740993", "-9007199254740993", "123456789012345678901234567890"] {
            let result = (try? JSONParser.parse("{\"a\": [\(text)]}").get())?.canonicalText()
            guard case .failure(let error)? = result else {
                Issue.record("canonicalized \(text)")
                continue
            }
            #expect(error.path == "a[0]")
        }
        #expect(
            (try? canonical("[9007199254740992, -9007199254740992, -0, 1.0, 1e2]"))
                == "[9007199254740992,-9007199254740992,0,1,100]")
    }

    /// A number written with a fraction or an exponent whose canonical text is an integer beyond
    /// ±2^53 (`1456789013617e4` is written `14567890136170000`) is refused like that integer
    /// literal: its canonical form would not read back (found by the remote-configuration fuzz
    /// target).
    @Test func refusesNumbersWhoseCanonicalFormIsAnIntegerBeyondTheLimit() {
        for text in ["1456789013617e4", "1e16", "-1E16", "9007199254740994.0", "1.5e20"] {
            let result = (try? JSONParser.parse("{\"a\": [\(text)]}").get())?.canonicalText()
            guard case .failure(let error)? = result else {
                Issue.record("canonicalized \(text)")
                continue
            }
            #expect(error.path == "a[0]")
            #expect(error.message.contains("beyond ±2^53"))
        }
        #expect(
            (try? canonical("[9007199254740992.0, 1e15, 1e21, 1.5e300]"))
                == "[9007199254740992,1000000000000000,1e+21,1.5e+300]")
    }

    /// Whatever has a canonical form reads back from it to the same canonical form.
    @Test func canonicalFormReadsBack() throws {
        let text = "[0, -1, 3, 1e-7, 120, 1e21, 4.5, 9007199254740992, 1e300, {\"b\": 1, \"a\": \"\\u0001\"}]"
        let once = try canonical(text)
        #expect(try canonical(once) == once)
    }

    @Test func escapesMinimally() throws {
        #expect(try canonical(#"["\u0000\u001f\u007f\u2028\/\b\t"]"#) == "[\"\\u0000\\u001f\u{7F}\u{2028}/\\b\\t\"]")
    }

    /// A JSON value built from a list of small numbers, and the same value with its objects'
    /// members in another order and other whitespace.
    private static func build(_ seed: [Int], permuted: Bool) -> (JSONValue, String) {
        var members: [(String, JSONValue, String)] = []
        for (index, number) in seed.enumerated() {
            let key = ["a", "B", "é", "\u{1F600}", "\u{FB33}", "10", "1", ""][number % 8] + String(index)
            let value: JSONValue
            let text: String
            switch number % 5 {
            case 0: (value, text) = (.number(JSONNumber(number * 7919 - 50_000)), String(number * 7919 - 50_000))
            case 1: (value, text) = (.string("s\(number)\n\u{1}\""), #""s\#(number)\n\u0001\"""#)
            case 2: (value, text) = (.bool(number % 2 == 0), number % 2 == 0 ? "true" : "false")
            case 3: (value, text) = (.array([.null, .number(JSONNumber(number))]), "[ null ,\t\(number) ]")
            default:
                (value, text) = (
                    .object([JSONMember("z", .null), JSONMember("y", .number(JSONNumber(1)))]), "{\"y\":1,\n\"z\":null}"
                )
            }
            members.append((key, value, text))
        }
        let ordered = permuted ? members.reversed() : members
        let text = "{" + ordered.map { "\n  \"\($0.0)\" :  \($0.2)" }.joined(separator: ",") + "\r\n}"
        return (.object(members.map { JSONMember($0.0, $0.1) }), text)
    }

    @Test func invariantUnderKeyOrderAndWhitespace() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...1000).array(of: 0...12)) { seed in
            let (value, _) = Self.build(seed, permuted: false)
            let (_, permutedText) = Self.build(seed, permuted: true)
            let direct = value.canonicalText()
            let reparsed = JSONParser.parse(permutedText).flatMap { parsed in
                parsed.canonicalText().mapError {
                    JSONParseError(offset: 0, line: 0, column: 0, path: $0.path, message: "")
                }
            }
            #expect(try direct.get() == reparsed.get())
            // The canonical form is a fixed point: parsing it and canonicalizing again changes nothing.
            let again = try JSONParser.parse(direct.get()).get().canonicalText().get()
            #expect(try again == direct.get())
        }
    }
}
