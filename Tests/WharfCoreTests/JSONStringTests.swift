import Testing
import WharfCore

@Suite struct JSONStringTests {
    @Test func escapesQuotesBackslashesAndControlCharacters() {
        #expect(JSONString.quoted("plain") == #""plain""#)
        #expect(JSONString.quoted("a\"b\\c") == #""a\"b\\c""#)
        #expect(JSONString.quoted("l1\nl2\r\t") == #""l1\nl2\r\t""#)
        #expect(JSONString.quoted("\u{01}x\u{1f}") == #""\u0001x\u001f""#)
        #expect(JSONString.quoted("µ°C ✓") == "\"µ°C ✓\"")
    }
}
