/// Numbers in the form ECMAScript's `Number.prototype.toString` gives them, as RFC 8785 requires.
///
/// The digits come from Swift's `Double.description`, which prints the shortest digit string that
/// reads back to the same double (the same digits ECMAScript chooses); only the layout differs
/// (Swift writes `1e+16` where ECMAScript writes `10000000000000000`), so it is redone here.
enum ECMAScriptNumber {
    /// The ECMAScript text of a finite double; `nil` for NaN and infinities, which JSON cannot hold.
    static func format(_ value: Double) -> String? {
        guard value.isFinite else { return nil }
        if value == 0 { return "0" }  // Also -0, which ECMAScript prints as "0".
        guard let (digits, exponent) = decimal(of: value.magnitude) else { return nil }
        let sign = value < 0 ? "-" : ""
        return sign + layout(digits: digits, n: exponent)
    }

    /// The significant digits `d1...dk` (no leading or trailing zeros) and `n` such that the value
    /// is `0.d1...dk × 10^n`, read from Swift's shortest round-trip description.
    static func decimal(of magnitude: Double) -> ([UInt8], Int)? {
        let text = magnitude.description
        let parts = text.split(separator: "e", maxSplits: 1)
        guard let mantissa = parts.first else { return nil }
        var exponent = 0
        if parts.count == 2 {
            guard let parsed = Int(parts[1].hasPrefix("+") ? parts[1].dropFirst() : parts[1]) else { return nil }
            exponent = parsed
        }
        let halves = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = Array(halves[0].utf8)
        let fraction = halves.count == 2 ? Array(halves[1].utf8) : []
        guard (whole + fraction).allSatisfy(JSONNumber.isDigit) else { return nil }
        var digits = whole + fraction
        var point = whole.count + exponent
        while let first = digits.first, first == UInt8(ascii: "0") {
            digits.removeFirst()
            point -= 1
        }
        while let last = digits.last, last == UInt8(ascii: "0") { digits.removeLast() }
        guard !digits.isEmpty else { return nil }
        return (digits, point)
    }

    /// ECMAScript's Number::toString steps 6 to 10 for digits `s` (k of them) and exponent `n`.
    static func layout(digits: [UInt8], n: Int) -> String {
        let k = digits.count
        let s = String(decoding: digits, as: UTF8.self)
        if k <= n && n <= 21 {
            return s + String(repeating: "0", count: n - k)
        }
        if 0 < n && n <= 21 {
            return String(decoding: digits[..<n], as: UTF8.self) + "." + String(decoding: digits[n...], as: UTF8.self)
        }
        if -6 < n && n <= 0 {
            return "0." + String(repeating: "0", count: -n) + s
        }
        let e = n - 1
        let exponent = "e" + (e < 0 ? "-" : "+") + String(e.magnitude)
        if k == 1 { return s + exponent }
        return String(decoding: digits[..<1], as: UTF8.self) + "." + String(decoding: digits[1...], as: UTF8.self)
            + exponent
    }
}
