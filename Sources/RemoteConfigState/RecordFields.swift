/// The `key=value` lines of a record being read, consumed in the order `encoded()` writes them.
struct RecordFields {
    /// The lines not read yet.
    private var lines: ArraySlice<Substring>

    init(lines: [Substring]) { self.lines = lines[...] }

    /// Consumes the header line.
    mutating func readHeader() throws(RecordDecodingError) {
        guard lines.first.map(String.init) == RemoteConfigRecord.header else {
            throw RecordDecodingError("not a remote configuration record of a known format")
        }
        lines.removeFirst()
    }

    /// The value of the next line if its key is `key`.
    mutating func optional(_ key: String) throws(RecordDecodingError) -> Substring? {
        guard let line = lines.first else { return nil }
        guard let equals = line.firstIndex(of: "=") else { throw RecordDecodingError("a line without '='") }
        guard line[..<equals] == key else { return nil }
        lines.removeFirst()
        return line[line.index(after: equals)...]
    }

    /// The value of the next line, which must have the key `key`.
    mutating func single(_ key: String) throws(RecordDecodingError) -> String {
        guard let value = try optional(key) else { throw RecordDecodingError("'\(key)' is missing") }
        return String(value)
    }

    /// The values of the consecutive next lines with the key `key`.
    mutating func all(_ key: String) throws(RecordDecodingError) -> [Substring] {
        var values: [Substring] = []
        while let value = try optional(key) { values.append(value) }
        return values
    }

    /// A number on the next line, whose key must be `key`.
    mutating func number<Number: FixedWidthInteger>(_ key: String) throws(RecordDecodingError) -> Number {
        try Self.parse(Substring(try single(key)), key: key)
    }

    /// A number on the next line if its key is `key`.
    mutating func optionalNumber<Number: FixedWidthInteger>(_ key: String) throws(RecordDecodingError) -> Number? {
        guard let value = try optional(key) else { return nil }
        return try Self.parse(value, key: key)
    }

    /// `true` or `false` on the next line, whose key must be `key`.
    mutating func boolean(_ key: String) throws(RecordDecodingError) -> Bool {
        switch try single(key) {
        case "true": return true
        case "false": return false
        default: throw RecordDecodingError("'\(key)' must be true or false")
        }
    }

    /// Every line was read.
    func finish() throws(RecordDecodingError) {
        if let line = lines.first { throw RecordDecodingError("unexpected line '\(line.prefix(40))'") }
    }

    /// A decimal number, digits only (with a leading minus for signed types).
    static func parse<Number: FixedWidthInteger>(_ value: Substring, key: String) throws(RecordDecodingError)
        -> Number
    {
        let digits = value.hasPrefix("-") ? value.dropFirst() : value
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Number(value) else {
            throw RecordDecodingError("'\(key)' is not a number")
        }
        return number
    }
}
