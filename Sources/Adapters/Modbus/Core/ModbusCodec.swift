/// Converts between raw registers or bits and a point's value. Pure.
public enum ModbusCodec {
    /// Decodes a point from its registers (`registers.count == point.width`; bool points with a `bit`
    /// read one register).
    public static func decode(registers: some Collection<UInt16>, for point: ModbusPointConfig) -> ModbusValue {
        let words = Array(registers)
        switch point.type {
        case .bool:
            let bit = point.bit ?? 0
            return .bool(((words.first ?? 0) >> UInt16(bit)) & 1 == 1)
        case .int16: return scaled(Int64(Int16(bitPattern: words.first ?? 0)), point)
        case .uint16: return scaled(UInt64(words.first ?? 0), point)
        case .int32: return scaled(Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: raw(words, point)))), point)
        case .uint32: return scaled(UInt64(UInt32(truncatingIfNeeded: raw(words, point))), point)
        case .int64: return scaled(Int64(bitPattern: raw(words, point)), point)
        case .uint64: return scaled(raw(words, point), point)
        case .float32:
            let float = Float(bitPattern: UInt32(truncatingIfNeeded: raw(words, point)))
            // Going through the shortest text keeps 231.4f as 231.4 rather than 231.39999389648438.
            let value = float.isFinite ? Double("\(float)") ?? Double(float) : Double(float)
            return .number(apply(value, point))
        case .float64:
            return .number(apply(Double(bitPattern: raw(words, point)), point))
        case .string:
            return .text(text(words, swapBytes: point.order.swapBytes))
        }
    }

    /// Decodes a bool point of the coil or discrete table.
    public static func decode(bit: UInt8) -> ModbusValue {
        .bool(bit != 0)
    }

    /// The registers of a big-endian raw value in the point's order (`width` registers).
    public static func registers(raw value: UInt64, width: Int, order: ModbusWordOrder) -> [UInt16] {
        var words = (0..<width).map { index in UInt16(truncatingIfNeeded: value >> (16 * UInt64(width - 1 - index))) }
        if order.swapBytes { words = words.map(\.byteSwapped) }
        if order.swapWords { words.reverse() }
        return words
    }

    /// The big-endian raw value of registers in the point's order.
    public static func raw(_ words: [UInt16], _ point: ModbusPointConfig) -> UInt64 {
        var words = Array(words.prefix(point.width))
        if point.order.swapWords { words.reverse() }
        if point.order.swapBytes { words = words.map(\.byteSwapped) }
        return words.reduce(0) { ($0 << 16) | UInt64($1) }
    }

    /// Encodes ASCII text into `length` registers, padded with NULs.
    public static func registers(text: String, length: Int, swapBytes: Bool) -> [UInt16] {
        var bytes = Array(text.utf8.prefix(length * 2))
        bytes += Array(repeating: 0, count: length * 2 - bytes.count)
        return (0..<length).map { index in
            let word = UInt16(bytes[2 * index]) << 8 | UInt16(bytes[2 * index + 1])
            return swapBytes ? word.byteSwapped : word
        }
    }

    private static func text(_ words: [UInt16], swapBytes: Bool) -> String {
        var bytes: [UInt8] = []
        for word in words {
            let ordered = swapBytes ? word.byteSwapped : word
            bytes.append(UInt8(ordered >> 8))
            bytes.append(UInt8(ordered & 0xFF))
        }
        while let last = bytes.last, last == 0 || last == 0x20 { bytes.removeLast() }
        // Devices pad with NUL or space; anything beyond ASCII is shown with replacement characters.
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func scaled(_ value: Int64, _ point: ModbusPointConfig) -> ModbusValue {
        point.isUnscaled ? .integer(value) : .number(apply(Double(value), point))
    }

    private static func scaled(_ value: UInt64, _ point: ModbusPointConfig) -> ModbusValue {
        point.isUnscaled ? .unsigned(value) : .number(apply(Double(value), point))
    }

    private static func apply(_ value: Double, _ point: ModbusPointConfig) -> Double {
        point.isUnscaled || !value.isFinite ? value : tidy(value * point.scale + point.offset)
    }

    /// Rounds away the binary noise of scaling (2314 × 0.1 = 231.40000000000003) by keeping
    /// 15 significant digits, all a Double holds reliably.
    public static func tidy(_ value: Double) -> Double {
        guard value.isFinite, value != 0 else { return value }
        let exponent = Int((abs(value)).log10Floor)
        let digits = 14 - exponent
        guard digits > 0, digits <= 300 else { return value }
        let factor = pow10(digits)
        guard factor.isFinite else { return value }
        let rounded = (value * factor).rounded() / factor
        return rounded.isFinite ? rounded : value
    }

    private static func pow10(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<exponent { result *= 10 }
        return result
    }
}

extension Double {
    /// ⌊log10(self)⌋ for positive finite values, without Foundation.
    fileprivate var log10Floor: Double {
        var exponent = 0.0
        var value = self
        while value >= 10 {
            value /= 10
            exponent += 1
        }
        while value < 1 {
            value *= 10
            exponent -= 1
        }
        return exponent
    }
}
