/// Parsing and printing of the duration and size spellings the configuration accepts.
///
/// Durations: a plain number of seconds, or one or more `<number><unit>` parts with units
/// `ms`, `s`, `m`, `h`, `d` (`500ms`, `10s`, `1h30m`, `1.5s`). Sizes: a plain number of bytes, or
/// `<number><unit>` with `B`, `KB`/`MB`/`GB` (powers of 1000) or `KiB`/`MiB`/`GiB` (powers of 1024).
public enum ConfigUnits {
    /// Words used in messages to show what a duration looks like.
    public static let durationExamples = "a duration such as 30s, 500ms, 5m, 2h or 1d (a plain number means seconds)"
    /// Words used in messages to show what a size looks like.
    public static let sizeExamples = "a size such as 1048576, 256KiB, 1MiB or 1MB (a plain number means bytes)"

    private static let nanosecondsPerUnit: [String: Int64] = [
        "ms": 1_000_000,
        "s": 1_000_000_000,
        "m": 60_000_000_000,
        "h": 3_600_000_000_000,
        "d": 86_400_000_000_000,
    ]

    private static let bytesPerUnit: [String: Int64] = [
        "b": 1,
        "kb": 1000, "mb": 1_000_000, "gb": 1_000_000_000,
        "kib": 1024, "mib": 1_048_576, "gib": 1_073_741_824,
    ]

    /// Parses a duration; `nil` when the text is not one or is too large.
    public static func parseDuration(_ text: String) -> Duration? {
        var scanner = NumberScanner(text)
        scanner.skipSpaces()
        if scanner.atEnd { return nil }
        var total: Int64 = 0
        var parts = 0
        while !scanner.atEnd {
            guard let number = scanner.number() else { return nil }
            scanner.skipSpaces()
            let unit = scanner.letters()
            scanner.skipSpaces()
            let perUnit: Int64
            if unit.isEmpty {
                // A bare number is seconds, but only on its own: "1h30" is more likely a typo than 1h30s.
                guard parts == 0, scanner.atEnd else { return nil }
                perUnit = 1_000_000_000
            } else {
                guard let known = nanosecondsPerUnit[unit] else { return nil }
                perUnit = known
            }
            guard let value = number.scaled(by: perUnit) else { return nil }
            let (sum, overflow) = total.addingReportingOverflow(value)
            guard !overflow else { return nil }
            total = sum
            parts += 1
        }
        return .nanoseconds(total)
    }

    /// Parses a size in bytes; `nil` when the text is not one or is too large.
    public static func parseSize(_ text: String) -> Int? {
        var scanner = NumberScanner(text)
        scanner.skipSpaces()
        guard let number = scanner.number() else { return nil }
        scanner.skipSpaces()
        let unit = scanner.letters()
        scanner.skipSpaces()
        guard scanner.atEnd else { return nil }
        let perUnit: Int64
        if unit.isEmpty {
            guard number.fractionDigits == 0 else { return nil }
            perUnit = 1
        } else {
            guard let known = bytesPerUnit[unit] else { return nil }
            perUnit = known
        }
        guard let bytes = number.scaled(by: perUnit), bytes <= Int64(Int.max) else { return nil }
        return Int(bytes)
    }

    /// An exact spelling of a duration in the largest whole unit (`90s`, `5m`, `1500ms`, `0.000001s`).
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanoseconds.overflow else { return "\(seconds)s" }
        let total = nanoseconds.partialValue + attoseconds / 1_000_000_000
        if total == 0 { return "0s" }
        for (unit, size) in [("d", Int64(86_400_000_000_000)), ("h", 3_600_000_000_000), ("m", 60_000_000_000)]
        where total % size == 0 {
            return "\(total / size)\(unit)"
        }
        if total % 1_000_000_000 == 0 { return "\(total / 1_000_000_000)s" }
        if total % 1_000_000 == 0 { return "\(total / 1_000_000)ms" }
        var fraction = String(total % 1_000_000_000)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(total / 1_000_000_000).\(fraction)s"
    }

    /// A size in the largest binary unit that divides it exactly (`64KiB`, `1MiB`, `1000 bytes`).
    public static func format(bytes: Int) -> String {
        for (unit, size) in [("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024)]
        where bytes != 0 && bytes % size == 0 {
            return "\(bytes / size)\(unit)"
        }
        return bytes == 1 ? "1 byte" : "\(bytes) bytes"
    }
}

/// A non-negative decimal number kept exact: whole part plus up to 9 fraction digits.
private struct ScannedNumber {
    var whole: Int64
    var fraction: Int64
    var fractionDigits: Int

    /// `self × unit`, truncated toward zero; `nil` on overflow.
    func scaled(by unit: Int64) -> Int64? {
        let (wholePart, overflow) = whole.multipliedReportingOverflow(by: unit)
        guard !overflow else { return nil }
        var divisor: Int64 = 1
        for _ in 0..<fractionDigits { divisor *= 10 }
        // fraction < divisor ≤ 10^9: both products stay below max(unit, 10^18), so neither overflows.
        let fractionPart = (fraction * (unit / divisor)) + (fraction * (unit % divisor)) / divisor
        let (sum, sumOverflow) = wholePart.addingReportingOverflow(fractionPart)
        return sumOverflow ? nil : sum
    }
}

/// Walks the characters of a duration or size.
private struct NumberScanner {
    private let scalars: [Unicode.Scalar]
    private var index = 0

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    var atEnd: Bool { index >= scalars.count }

    mutating func skipSpaces() {
        while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" { index += 1 }
    }

    /// Lowercased ASCII letters at the current position.
    mutating func letters() -> String {
        var result = ""
        while index < scalars.count, scalars[index].properties.isAlphabetic, scalars[index].isASCII {
            result.unicodeScalars.append(scalars[index])
            index += 1
        }
        return result.lowercased()
    }

    /// Digits with an optional `.fraction`; `_` may separate digits, as in YAML numbers.
    mutating func number() -> ScannedNumber? {
        var whole: Int64 = 0
        var digits = 0
        while index < scalars.count {
            if scalars[index] == "_", digits > 0 {
                index += 1
                continue
            }
            guard let digit = digitValue(scalars[index]) else { break }
            index += 1
            let (shifted, overflow) = whole.multipliedReportingOverflow(by: 10)
            let (sum, sumOverflow) = shifted.addingReportingOverflow(digit)
            guard !overflow, !sumOverflow else { return nil }
            whole = sum
            digits += 1
        }
        var fraction: Int64 = 0
        var fractionDigits = 0
        if index < scalars.count, scalars[index] == "." {
            index += 1
            while index < scalars.count, let digit = digitValue(scalars[index]) {
                index += 1
                // Nine digits reach nanoseconds; more cannot change a duration and would risk overflow.
                guard fractionDigits < 9 else { continue }
                fraction = fraction * 10 + digit
                fractionDigits += 1
            }
        }
        guard digits + fractionDigits > 0 else { return nil }
        return ScannedNumber(whole: whole, fraction: fraction, fractionDigits: fractionDigits)
    }

    private func digitValue(_ scalar: Unicode.Scalar) -> Int64? {
        guard ("0"..."9").contains(scalar) else { return nil }
        return Int64(scalar.value) - 48
    }
}
