import WharfConfig

extension ModbusPointConfig {
    /// Reads one point; `nil` when a required key is missing or unusable (already reported).
    init?(reading reader: ConfigReader) {
        let name = reader.requiredString("name", "the point's name, unique in its device")
        if let name, let node = reader.value("name"),
            name.isEmpty || name.contains(where: { $0 == "+" || $0 == "#" || $0 == "\u{0}" })
        {
            // The name becomes a topic level, where MQTT forbids wildcards.
            reader.report(
                "expected a point name without '+', '#' or NUL (it is used in topics), got \(node.quoted)", at: node)
        }
        let table = reader.value("table").flatMap { reader.choice($0, as: ModbusTable.self) }
        if reader.value("table") == nil { reader.reportMissing("table", "one of coil, discrete, holding, input") }
        let address = reader.value("address").flatMap { reader.int($0, in: 0...65_535) }
        if reader.value("address") == nil { reader.reportMissing("address", "the 0-based protocol address") }
        let type = reader.value("type").flatMap { reader.choice($0, as: ModbusValueType.self) }
        if reader.value("type") == nil {
            reader.reportMissing(
                "type", "bool, int16, uint16, int32, uint32, int64, uint64, float32, float64 or string")
        }
        guard let name, let table, let address, let type else {
            Self.readRest(reader)
            reader.finish()
            return nil
        }
        self.init(name: name, table: table, address: address, type: type)
        var valid = Self.checkTable(reader, table: table, type: type)
        order = Self.order(reader, type: type)
        if type == .string {
            if let node = reader.value("length") {
                length = reader.int(node, in: 1...table.maxReadCount) ?? 1
            } else {
                reader.reportMissing("length", "the string's length in registers (2 characters each)")
                valid = false
            }
        } else if let node = reader.value("length") {
            reader.report("'length' applies to string points only", at: node)
        }
        if let node = reader.value("bit") {
            if type != .bool || table.isBits {
                reader.report("'bit' applies only to bool points on holding or input registers", at: node)
            } else {
                bit = reader.int(node, in: 0...15)
            }
        } else if type == .bool && !table.isBits {
            reader.reportMissing("bit", "which bit (0 to 15) of the \(table.rawValue) register this bool is")
        }
        if address + width - 1 > 65_535, let node = reader.value("address") {
            reader.report(
                "the point spans addresses \(address)...\(address + width - 1), beyond the last address 65535", at: node
            )
            valid = false
        }
        readNumeric(reader)
        unit = reader.value("unit").flatMap { reader.string($0) }
        publish = reader.choice("publish", default: publish)
        pollInterval = reader.value("poll_interval").flatMap { reader.duration($0) }
        writable = reader.bool("writable", default: false)
        if writable, !table.isWritable, let node = reader.value("writable") {
            reader.report(
                "the \(table.rawValue) table is read-only; only coil and holding points can be writable", at: node)
        }
        reader.finish()
        if !valid { return nil }
    }

    /// Marks the optional keys as known when a point is too broken to read, so they are not
    /// also reported as unknown.
    private static func readRest(_ reader: ConfigReader) {
        for key in [
            "order", "length", "bit", "scale", "offset", "unit", "publish", "deadband", "poll_interval", "writable",
            "min", "max",
        ] {
            _ = reader.member(key)
        }
    }

    private static func checkTable(_ reader: ConfigReader, table: ModbusTable, type: ModbusValueType) -> Bool {
        guard table.isBits, type != .bool, let node = reader.value("type") else { return true }
        reader.report(
            "\(table.rawValue) points hold single bits: their type must be bool, got \(node.quoted)", at: node)
        return false
    }

    private static func order(_ reader: ConfigReader, type: ModbusValueType) -> ModbusWordOrder {
        guard let node = reader.value("order") else { return .abcd }
        let text = (node.scalarText ?? "").uppercased()
        let names: [String: ModbusWordOrder]
        switch type {
        case .int32, .uint32, .float32: names = ModbusWordOrder.names32
        case .int64, .uint64, .float64: names = ModbusWordOrder.names64
        case .string: names = ["ABCD": .abcd, "BADC": .badc]
        case .bool, .int16, .uint16:
            reader.report("'order' applies to 32-bit, 64-bit and string points, not \(type.rawValue)", at: node)
            return .abcd
        }
        if let order = names[text] { return order }
        let all = ModbusWordOrder.names64.keys.sorted()
        if all.contains(text) {
            reader.report(
                "order \(node.quoted) does not fit a \(type.rawValue) point; use one of "
                    + names.keys.sorted().joined(separator: ", "),
                at: node)
        } else {
            var message = "expected one of \(names.keys.sorted().joined(separator: ", ")), got \(node.quoted)"
            if let guess = KeySuggestion.closest(to: text, among: names.keys.sorted()) {
                message += "; did you mean '\(guess)'?"
            }
            reader.report(message, at: node)
        }
        return .abcd
    }

    private mutating func readNumeric(_ reader: ConfigReader) {
        for key in ["scale", "offset", "deadband", "min", "max"] where !type.isNumeric {
            if let node = reader.value(key) {
                reader.report("'\(key)' applies to numeric points only, not \(type.rawValue)", at: node)
            }
        }
        guard type.isNumeric else { return }
        scale = reader.number("scale") ?? 1
        if scale == 0, let node = reader.value("scale") {
            reader.report("scale must not be 0", at: node)
            scale = 1
        }
        offset = reader.number("offset") ?? 0
        deadband = reader.number("deadband") ?? 0
        if deadband < 0, let node = reader.value("deadband") {
            reader.report("deadband must not be negative", at: node)
            deadband = 0
        }
        min = reader.number("min")
        max = reader.number("max")
        if let min, let max, min > max, let node = reader.value("max") {
            reader.report("max must not be smaller than min", at: node)
        }
    }
}
