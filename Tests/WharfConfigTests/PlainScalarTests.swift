import Testing
import Yams

@testable import WharfConfig

@Suite struct PlainScalarTests {
    @Test(arguments: [
        ("", PlainScalar.null), ("~", .null), ("null", .null), ("NULL", .null), ("nULL", .string),
        ("yes", .bool), ("Off", .bool), ("TRUE", .bool), ("y", .string), ("tRUE", .string),
        ("0", .number), ("-17", .number), ("+3", .number), ("1_000", .number), ("0x1F", .number), ("0b101", .number),
        ("017", .number), ("0o17", .number), ("09", .number), ("1:30", .number), ("190:20:30", .number),
        ("1.5", .number), ("-.5", .string), (".5", .number), ("6.8523015e+5", .number), ("1e3", .number),
        (".inf", .number), ("-.INF", .number), (".nan", .number), ("-.nan", .string), ("1:30.5", .number),
        ("<<", .merge), ("2024-05-01", .timestamp), ("2024-5-1 10:00:00", .timestamp),
        ("2001-12-14t21:59:43.10-05:00", .timestamp), ("2001-12-14 21:59:43.10 Z", .timestamp),
        ("2024-05-1", .string), ("0x", .string), ("1:60", .string), ("1.2.3", .string), ("e3", .string),
        ("127.0.0.1", .string), ("plant/line1/#", .string), ("=", .string), ("1e", .string), ("0b2", .string),
    ])
    func classifies(text: String, expected: PlainScalar) {
        #expect(PlainScalar.kind(of: text) == expected, "\(text)")
    }

    /// The hand-written rules agree with the regular expressions of Yams' default resolver on
    /// every string of up to three of the characters that matter to them, and on random longer
    /// ones (a failure names the string).
    @Test func agreesWithTheRegularExpressionResolver() {
        let alphabet = Array("0123456789_+-.:eExXbBoOnNfFtTyYZ~< ")
        var texts = [
            "00", "0_", "-0x_", "+0b", "0o", "1:0", "1:00:5", "1:000", ".e+1", "._", "1.e5", "1_.5e-3", "-.inf",
            "2024-05-01T1:00:00", "2024-05-01 01:00:00.5 +1", "2024-05-01 01:00:00+01:00", "2024-05-01 01:00:00 ",
            "null", "Null", "NULL", "off", "On", "yes", "No", "true", "FALSE", ".NaN", ".Inf",
        ]
        for first in alphabet {
            texts.append(String(first))
            for second in alphabet {
                texts.append(String([first, second]))
                for third in alphabet { texts.append(String([first, second, third])) }
            }
        }
        for _ in 0..<20_000 {
            let length = Int.random(in: 4...12)
            texts.append(String((0..<length).map { _ in alphabet.randomElement() ?? "0" }))
        }
        for _ in 0..<2_000 {
            // Dates and times with random digits and separators.
            let parts = (0..<6).map { _ in String(Int.random(in: 0...99)) }
            let separator = [" ", "T", "t", "  ", "x"].randomElement() ?? " "
            let zone = ["", "Z", " Z", "+1", "-05:00", "+5:5"].randomElement() ?? ""
            texts.append(
                "20\(parts[0].count == 1 ? "0" : "")\(parts[0])-\(parts[1])-\(parts[2])\(separator)"
                    + "\(parts[3]):\(parts[4]):\(parts[5])\(zone)")
        }
        for text in texts {
            let expected: PlainScalar
            switch Resolver.default.resolveTag(of: Node(text)) {
            case .null: expected = .null
            case .bool: expected = .bool
            case .int, .float: expected = .number
            case .merge: expected = .merge
            case .timestamp: expected = .timestamp
            default: expected = .string
            }
            #expect(PlainScalar.kind(of: text) == expected, "\(text.debugDescription)")
        }
    }
}
