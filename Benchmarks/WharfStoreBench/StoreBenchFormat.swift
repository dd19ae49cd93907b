/// The median, or `nil` for no values.
func median(_ values: [Double]) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// A JSON object of `fields`, whose values are JSON already.
func object(_ fields: [(String, String)]) -> String {
    "{" + fields.map { "\(quoted($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
}

/// `text` as a JSON string.
func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// `value` with exactly `digits` decimals, in plain notation.
func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "0" }
    var scale: Int64 = 1
    for _ in 0..<digits { scale *= 10 }
    let scaled = Int64((value * Double(scale)).rounded())
    let sign = scaled < 0 ? "-" : ""
    let magnitude = scaled.magnitude
    let whole = magnitude / UInt64(scale)
    guard digits > 0 else { return "\(sign)\(whole)" }
    let fraction = String(magnitude % UInt64(scale))
    return "\(sign)\(whole)." + String(repeating: "0", count: digits - fraction.count) + fraction
}

/// `value` rounded to a whole number, with thin groups of three digits (`1 234 567`).
func grouped(_ value: Double) -> String {
    let digits = fixed(value, 0)
    var out = ""
    for (index, character) in digits.reversed().enumerated() {
        if index > 0, index % 3 == 0, character != "-" { out.append(" ") }
        out.append(character)
    }
    return String(out.reversed())
}

/// `value` as a whole percentage (`0.823` → `82 %`).
func percent(_ value: Double) -> String {
    fixed(value * 100, 0) + " %"
}

/// The median of `values` and their range, `82 % (75–91 %)`, with `format` for each number.
func medianAndRange(_ values: [Double], _ format: (Double) -> String) -> String {
    guard let middle = median(values), let low = values.min(), let high = values.max() else { return "–" }
    guard values.count > 1 else { return format(middle) }
    return "\(format(middle)) (\(format(low))–\(format(high)))"
}
