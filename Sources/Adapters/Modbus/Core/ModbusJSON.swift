import WharfCore

/// A small JSON writer for the adapter's payloads: objects of scalars, written in key order given.
struct ModbusJSON {
    private(set) var text = ""

    /// An empty writer with room for `capacity` bytes, so short payloads allocate once.
    init(capacity: Int = 0) {
        if capacity > 0 { text.reserveCapacity(capacity) }
    }

    /// Appends a value.
    mutating func append(_ value: ModbusValue) {
        switch value {
        case .bool(let flag): text += flag ? "true" : "false"
        case .integer(let number): text += "\(number)"
        case .unsigned(let number): text += "\(number)"
        case .number(let number): append(number)
        case .text(let string): append(string: string)
        }
    }

    /// Appends a number; integral values below 2^53 have no fraction, NaN and infinities become null.
    mutating func append(_ number: Double) {
        guard number.isFinite else {
            text += "null"
            return
        }
        if number.rounded() == number, abs(number) < 9_007_199_254_740_992 {
            text += "\(Int64(number))"
        } else {
            text += "\(number)"
        }
    }

    /// Appends JSON text as is.
    mutating func appendRaw(_ raw: String) {
        text += raw
    }

    /// Appends a quoted, escaped string.
    mutating func append(string: String) {
        JSONString.appendQuoted(string, to: &text)
    }
}

/// Builds one JSON object member by member, in the order added.
struct ModbusJSONObject {
    private var members: [String] = []

    init() {}

    /// Adds `name: value`; `nil` is written as `null`.
    mutating func add(_ name: String, _ value: ModbusValue?) {
        var json = ModbusJSON()
        json.append(string: name)
        json.appendRaw(":")
        if let value { json.append(value) } else { json.appendRaw("null") }
        members.append(json.text)
    }

    /// Adds `name: "text"`.
    mutating func add(_ name: String, text: String) {
        add(name, .text(text))
    }

    /// Adds `name: true/false`.
    mutating func add(_ name: String, flag: Bool) {
        add(name, .bool(flag))
    }

    /// The object's text.
    var text: String { "{" + members.joined(separator: ",") + "}" }
}
