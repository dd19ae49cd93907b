/// Dead letters for people: one line each, newest first, then the table's totals.
enum DeadLetterText {
    /// Every line of `wharfctl queue dead-letters`.
    static func text(_ list: DeadLetterListView) -> String {
        (list.deadLetters.map(line) + [summary(list)]).joined(separator: "\n")
    }

    /// `2026-12-07T14:30:00.123Z  site/gw1/secret  0x87 not-authorized  "no access"  12 B  rule devices`.
    static func line(_ entry: DeadLetterListView.Entry) -> String {
        [
            entry.deadAt, field(entry.topic), "\(hex(entry.reasonCode)) \(entry.reason)",
            entry.reasonString.map(quoted) ?? "-", StatusReport.bytes(entry.payloadBytes), "rule \(entry.rule)",
        ].joined(separator: "  ")
    }

    /// The count line: how many there are, how many are shown, and their size.
    static func summary(_ list: DeadLetterListView) -> String {
        let shown = list.deadLetters.count
        if list.count == 0 && shown == 0 { return "no dead letters" }
        let total = "\(list.count) dead letter\(list.count == 1 ? "" : "s") (\(StatusReport.bytes(list.bytes)))"
        guard shown < list.count else { return total }
        return "\(total); the newest \(shown) shown, --limit shows more"
    }

    /// `cleared 3 dead letters`.
    static func cleared(_ count: Int) -> String {
        "cleared \(count) dead letter\(count == 1 ? "" : "s")"
    }

    /// `0x87`.
    static func hex(_ code: Int) -> String {
        let digits = String(code, radix: 16)
        return "0x" + (digits.count < 2 ? "0" : "") + digits
    }

    /// `text` as it is, or quoted when it holds spaces or control characters (a topic may).
    static func field(_ text: String) -> String {
        let plain = !text.isEmpty && text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F }
        return plain ? text : quoted(text)
    }

    /// The cloud's text in double quotes, with quotes, backslashes and control characters escaped,
    /// so that one dead letter stays one line.
    static func quoted(_ text: String) -> String {
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let digits = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output + "\""
    }
}
