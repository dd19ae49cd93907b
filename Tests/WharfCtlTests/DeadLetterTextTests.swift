import Testing

@testable import WharfCtlCommands

/// How `wharfctl queue dead-letters` reads the admin API's list and shows it.
@Suite struct DeadLetterTextTests {
    /// A list as the daemon writes it: pretty-printed, sorted keys, slashes escaped, nulls written.
    static let body = """
        {
          "bytes" : 2100,
          "count" : 3,
          "dead_letters" : [
            {
              "dead_at" : "2026-12-07T14:30:02.250Z",
              "enqueued_at" : "2026-12-07T14:30:01.000Z",
              "id" : 9,
              "payload" : null,
              "payload_base64" : "\\/w==",
              "payload_bytes" : 1,
              "qos" : 1,
              "reason" : "payload-format-invalid",
              "reason_code" : 153,
              "reason_string" : null,
              "retain" : false,
              "rule" : "devices",
              "sequence" : 41,
              "topic" : "site\\/gw1\\/devices\\/raw"
            },
            {
              "dead_at" : "2026-12-07T14:30:00.123Z",
              "enqueued_at" : "2026-12-07T14:29:59.000Z",
              "id" : 8,
              "payload" : "secret-0",
              "payload_base64" : "c2VjcmV0LTA=",
              "payload_bytes" : 2048,
              "qos" : 1,
              "reason" : "not-authorized",
              "reason_code" : 135,
              "reason_string" : "no \\"write\\" access\\nhere",
              "retain" : false,
              "rule" : "secrets",
              "sequence" : 40,
              "topic" : "site\\/gw1\\/devices\\/secret"
            }
          ]
        }
        """

    @Test func oneLinePerDeadLetterNewestFirstThenTheTotals() throws {
        let list = try DeadLetterListView.parse(Self.body)
        #expect(list.count == 3 && list.bytes == 2100 && list.deadLetters.map(\.id) == [9, 8])
        #expect(
            DeadLetterText.text(list) == """
                2026-12-07T14:30:02.250Z  site/gw1/devices/raw  0x99 payload-format-invalid  -  1 B  rule devices
                2026-12-07T14:30:00.123Z  site/gw1/devices/secret  0x87 not-authorized  "no \\"write\\" access\\nhere"  2.0 KiB  rule secrets
                3 dead letters (2.1 KiB); the newest 2 shown, --limit shows more
                """)
    }

    @Test func theCountLine() {
        func list(count: Int, bytes: Int, shown: Int) -> DeadLetterListView {
            let entry = DeadLetterListView.Entry(
                id: 1, topic: "t", reasonCode: 0x87, reason: "not-authorized", reasonString: nil, rule: "r",
                payloadBytes: 1, deadAt: "2026-12-07T14:30:00.000Z")
            return DeadLetterListView(
                count: count, bytes: bytes, deadLetters: Array(repeating: entry, count: shown))
        }
        #expect(DeadLetterText.summary(list(count: 0, bytes: 0, shown: 0)) == "no dead letters")
        #expect(DeadLetterText.summary(list(count: 1, bytes: 40, shown: 1)) == "1 dead letter (40 B)")
        #expect(DeadLetterText.summary(list(count: 2, bytes: 80, shown: 2)) == "2 dead letters (80 B)")
        #expect(
            DeadLetterText.summary(list(count: 5, bytes: 200, shown: 0))
                == "5 dead letters (200 B); the newest 0 shown, --limit shows more")
        #expect(DeadLetterText.cleared(1) == "cleared 1 dead letter")
        #expect(DeadLetterText.cleared(0) == "cleared 0 dead letters")
        #expect(DeadLetterListView.cleared("{\n  \"cleared\" : 5\n}\n") == 5)
        #expect(DeadLetterListView.cleared("not found") == nil)
    }

    @Test func aTopicWithSpacesOrControlCharactersIsQuotedSoEachLetterStaysOneLine() {
        #expect(DeadLetterText.field("site/a b") == "\"site/a b\"")
        #expect(DeadLetterText.field("site/a\u{1}\r") == "\"site/a\\u0001\\r\"")
        #expect(DeadLetterText.field("") == "\"\"")
        #expect(DeadLetterText.field("site/é") == "site/é")
        #expect(DeadLetterText.hex(0x87) == "0x87" && DeadLetterText.hex(5) == "0x05")
    }
}
