/// What an untagged, unquoted YAML scalar is, by the YAML 1.1 rules YAML tools apply to it
/// (`yes` is a boolean, `~` is null, `0x1F` is a number, `<<` is a merge key).
///
/// Written out by hand rather than with regular expressions: the rules are small, and the
/// daemon then never starts a regular-expression engine (and its Unicode tables) to read its
/// configuration.
enum PlainScalar: Equatable {
    case null
    case bool
    /// An integer or a floating-point number, including sexagesimal (`1:30`), `.inf` and `.nan`.
    case number
    case merge
    /// A date or a date and time (`2024-05-01`, `2024-05-01T10:00:00Z`).
    case timestamp
    case string

    /// The kind of `text`, written as a plain scalar.
    static func kind(of text: String) -> PlainScalar {
        let bytes = Array(text.utf8)
        if nullWords.contains(text) { return .null }
        if boolWords.contains(text) { return .bool }
        if isInteger(bytes[...]) || isFloat(bytes[...]) { return .number }
        if text == "<<" { return .merge }
        if isTimestamp(bytes[...]) { return .timestamp }
        return .string
    }

    private static let nullWords: Set<String> = ["", "~", "null", "Null", "NULL"]
    private static let boolWords: Set<String> = [
        "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
        "on", "On", "ON", "off", "Off", "OFF",
    ]

    private typealias Bytes = ArraySlice<UInt8>

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    private static func isHex(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)
    }

    /// `text` without one leading `-` or `+`.
    private static func unsigned(_ text: Bytes) -> Bytes {
        guard let first = text.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") else { return text }
        return text.dropFirst()
    }

    /// One or more bytes, each `_` or accepted by `digit`.
    private static func isDigits(_ text: Bytes, _ digit: (UInt8) -> Bool) -> Bool {
        !text.isEmpty && text.allSatisfy { $0 == UInt8(ascii: "_") || digit($0) }
    }

    /// Zero or more bytes, each `_` or a decimal digit.
    private static func isOptionalDigits(_ text: Bytes) -> Bool {
        text.allSatisfy { $0 == UInt8(ascii: "_") || isDigit($0) }
    }

    /// `(:[0-5]?[0-9])+`: the sexagesimal groups after the first.
    private static func isSexagesimalTail(_ text: Bytes) -> Bool {
        guard text.first == UInt8(ascii: ":") else { return false }
        for group in text.dropFirst().split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false) {
            switch group.count {
            case 1: guard let only = group.first, isDigit(only) else { return false }
            case 2:
                guard let high = group.first, let low = group.last, high >= 0x30, high <= 0x35, isDigit(low) else {
                    return false
                }
            default: return false
            }
        }
        return true
    }

    /// YAML 1.1 `int`: binary `0b`, octal `0` or `0o`, decimal, hexadecimal `0x`, sexagesimal.
    private static func isInteger(_ text: Bytes) -> Bool {
        let body = unsigned(text)
        guard let first = body.first else { return false }
        let zero = UInt8(ascii: "0")
        if body.starts(with: "0b".utf8) { return isDigits(body.dropFirst(2)) { $0 == zero || $0 == zero + 1 } }
        if body.starts(with: "0x".utf8) { return isDigits(body.dropFirst(2), isHex) }
        let isOctal: (UInt8) -> Bool = { $0 >= zero && $0 <= zero + 7 }
        if body.starts(with: "0o".utf8), isDigits(body.dropFirst(2), isOctal) { return true }
        if first == zero {
            return body.count == 1 || isDigits(body.dropFirst(), isOctal)
        }
        guard isDigit(first) else { return false }
        let rest = body.dropFirst()
        if isOptionalDigits(rest) { return true }
        // Sexagesimal: [1-9][0-9_]*(:[0-5]?[0-9])+
        guard let colon = rest.firstIndex(of: UInt8(ascii: ":")) else { return false }
        return isOptionalDigits(rest[..<colon]) && isSexagesimalTail(rest[colon...])
    }

    /// YAML 1.1 `float`, as the usual implicit rule has it (which also accepts plain integers
    /// with leading zeros, such as `09`).
    private static func isFloat(_ text: Bytes) -> Bool {
        if text.elementsEqual(".nan".utf8) || text.elementsEqual(".NaN".utf8) || text.elementsEqual(".NAN".utf8) {
            return true
        }
        let body = unsigned(text)
        if body.elementsEqual(".inf".utf8) || body.elementsEqual(".Inf".utf8) || body.elementsEqual(".INF".utf8) {
            return true
        }
        // \.[0-9_]+([eE][-+][0-9]+)?   (no sign before the dot)
        if text.first == UInt8(ascii: ".") {
            let rest = text.dropFirst()
            let exponent = rest.firstIndex { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
            guard let exponent else { return isDigits(rest, isDigit) }
            let power = rest[rest.index(after: exponent)...]
            guard let sign = power.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") else { return false }
            return isDigits(rest[..<exponent], isDigit) && power.count > 1 && power.dropFirst().allSatisfy(isDigit)
        }
        guard let first = body.first, isDigit(first) else { return false }
        // [0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*
        if let colon = body.firstIndex(of: UInt8(ascii: ":")) {
            guard let dot = body.firstIndex(of: UInt8(ascii: ".")), dot > colon else { return false }
            return isOptionalDigits(body[body.index(after: body.startIndex)..<colon])
                && isSexagesimalTail(body[colon..<dot]) && isOptionalDigits(body[body.index(after: dot)...])
        }
        // [0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?
        var index = body.index(after: body.startIndex)
        while index < body.endIndex, isDigit(body[index]) || body[index] == UInt8(ascii: "_") {
            index = body.index(after: index)
        }
        if index < body.endIndex, body[index] == UInt8(ascii: ".") {
            index = body.index(after: index)
            while index < body.endIndex, isDigit(body[index]) || body[index] == UInt8(ascii: "_") {
                index = body.index(after: index)
            }
        }
        guard index < body.endIndex else { return true }
        guard body[index] == UInt8(ascii: "e") || body[index] == UInt8(ascii: "E") else { return false }
        var power = body[body.index(after: index)...]
        if let sign = power.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") { power = power.dropFirst() }
        return !power.isEmpty && power.allSatisfy(isDigit)
    }

    /// `YYYY-MM-DD`, or `YYYY-M-D` followed by a time: `(T|t|spaces)H:MM:SS(.frac)?(spaces?(Z|±H(:MM)?))?`.
    private static func isTimestamp(_ text: Bytes) -> Bool {
        func digits(_ slice: Bytes, _ range: ClosedRange<Int>) -> Bool {
            range.contains(slice.count) && slice.allSatisfy(isDigit)
        }
        let dash = UInt8(ascii: "-")
        guard text.count >= 8, digits(text.prefix(4), 4...4), text.dropFirst(4).first == dash else { return false }
        let afterYear = text.dropFirst(5)
        guard let secondDash = afterYear.firstIndex(of: dash) else { return false }
        let month = afterYear[..<secondDash]
        let afterMonth = afterYear[afterYear.index(after: secondDash)...]
        let dayEnd = afterMonth.firstIndex { !isDigit($0) } ?? afterMonth.endIndex
        let day = afterMonth[..<dayEnd]
        let time = afterMonth[dayEnd...]
        if time.isEmpty && digits(month, 2...2) && digits(day, 2...2) { return true }
        guard digits(month, 1...2), digits(day, 1...2), let separator = time.first else { return false }
        var rest: Bytes
        if separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t") {
            rest = time.dropFirst()
        } else {
            rest = time.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            guard rest.count < time.count else { return false }
        }
        // H:MM:SS
        let hourEnd = rest.firstIndex(of: UInt8(ascii: ":")) ?? rest.endIndex
        guard digits(rest[..<hourEnd], 1...2), hourEnd < rest.endIndex else { return false }
        rest = rest[rest.index(after: hourEnd)...]
        guard rest.count >= 5, digits(rest.prefix(2), 2...2), rest.dropFirst(2).first == UInt8(ascii: ":"),
            digits(rest.dropFirst(3).prefix(2), 2...2)
        else { return false }
        rest = rest.dropFirst(5)
        if rest.first == UInt8(ascii: ".") { rest = rest.dropFirst().drop(while: isDigit) }
        if rest.isEmpty { return true }
        rest = rest.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        if rest.elementsEqual("Z".utf8) { return true }
        guard let sign = rest.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") else { return false }
        let zone = rest.dropFirst()
        let zoneHourEnd = zone.firstIndex(of: UInt8(ascii: ":")) ?? zone.endIndex
        guard digits(zone[..<zoneHourEnd], 1...2) else { return false }
        guard zoneHourEnd < zone.endIndex else { return true }
        return digits(zone[zone.index(after: zoneHourEnd)...], 2...2)
    }
}
