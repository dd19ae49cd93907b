/// A checked write, ready for the wire.
public enum ModbusWrite: Sendable, Hashable {
    /// One coil (function 5).
    case coil(address: Int, value: Bool)
    /// One register (function 6) or several (function 16).
    case registers(address: Int, values: [UInt16])
    /// One bit of a holding register: read (function 3), change the bit, write back (function 6).
    case registerBit(address: Int, bit: Int, value: Bool)

    /// Range-checks a command for `point` and converts it to raw registers or a bit; `echo` is the
    /// value to report back (engineering units).
    public static func make(_ command: ModbusCommandValue, for point: ModbusPointConfig) -> Result<
        (write: ModbusWrite, echo: ModbusValue), ModbusWriteError
    > {
        guard point.writable, point.table.isWritable else {
            return .failure(ModbusWriteError("point '\(point.name)' is not writable"))
        }
        switch point.type {
        case .bool:
            guard case .bool(let flag) = command else {
                return .failure(ModbusWriteError("point '\(point.name)' is a bool: expected true or false"))
            }
            if point.table == .coil { return .success((.coil(address: point.address, value: flag), .bool(flag))) }
            return .success((.registerBit(address: point.address, bit: point.bit ?? 0, value: flag), .bool(flag)))
        case .string:
            guard case .text(let text) = command else {
                return .failure(ModbusWriteError("point '\(point.name)' is a string: expected a JSON string"))
            }
            guard text.utf8.allSatisfy({ $0 < 0x80 && $0 != 0 }) else {
                return .failure(ModbusWriteError("point '\(point.name)' takes ASCII text only"))
            }
            guard text.utf8.count <= point.length * 2 else {
                return .failure(
                    ModbusWriteError(
                        "text of \(text.utf8.count) characters is too long for point '\(point.name)' "
                            + "(at most \(point.length * 2))"))
            }
            let words = ModbusCodec.registers(text: text, length: point.length, swapBytes: point.order.swapBytes)
            return .success((.registers(address: point.address, values: words), .text(text)))
        default:
            return numeric(command, for: point)
        }
    }

    private static func numeric(_ command: ModbusCommandValue, for point: ModbusPointConfig) -> Result<
        (write: ModbusWrite, echo: ModbusValue), ModbusWriteError
    > {
        let echo: ModbusValue
        switch command {
        case .integer(let value): echo = .integer(value)
        case .unsigned(let value): echo = .unsigned(value)
        case .number(let value): echo = .number(value)
        case .bool, .text:
            return .failure(ModbusWriteError("point '\(point.name)' is a \(point.type.rawValue): expected a number"))
        }
        let engineering = echo.doubleValue ?? 0
        let raw: UInt64
        switch ModbusRawRange.raw(for: echo, point: point) {
        case .success(let value): raw = value
        case .failure(let error): return .failure(error)
        }
        if let min = point.min, engineering < min {
            return .failure(ModbusWriteError("value \(render(echo)) is below the minimum \(render(min))"))
        }
        if let max = point.max, engineering > max {
            return .failure(ModbusWriteError("value \(render(echo)) is above the maximum \(render(max))"))
        }
        let words = ModbusCodec.registers(raw: raw, width: point.width, order: point.order)
        return .success((.registers(address: point.address, values: words), echo))
    }

    static func render(_ value: ModbusValue) -> String {
        var json = ModbusJSON()
        json.append(value)
        return json.text
    }

    static func render(_ value: Double) -> String {
        render(.number(value))
    }
}
