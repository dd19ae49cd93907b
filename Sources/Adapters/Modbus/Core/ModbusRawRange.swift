/// The inverse of a point's scaling, with the limits of its register type. Pure.
enum ModbusRawRange {
    /// The raw bit pattern (big-endian, before word order) that stores `value` in `point`, or why it cannot.
    static func raw(for value: ModbusValue, point: ModbusPointConfig) -> Result<UInt64, ModbusWriteError> {
        let type = point.type
        if point.isUnscaled, !type.isFloat {
            // Whole numbers stay exact up to 64 bits when no scaling is involved.
            switch value {
            case .integer(let number): return integer(Int128(number), type, shown: "\(number)")
            case .unsigned(let number): return integer(Int128(number), type, shown: "\(number)")
            case .number(let number):
                guard number.isFinite, number.rounded() == number, let whole = Int128(exactly: number) else {
                    return .failure(ModbusWriteError("\(type.rawValue) takes whole numbers, got \(describe(number))"))
                }
                return integer(whole, type, shown: describe(number))
            case .bool, .text:
                return .failure(ModbusWriteError("expected a number"))
            }
        }
        guard let engineering = value.doubleValue, engineering.isFinite else {
            return .failure(ModbusWriteError("expected a finite number"))
        }
        let scaled = (engineering - point.offset) / point.scale
        switch type {
        case .float32:
            guard scaled.isFinite, abs(scaled) <= Double(Float.greatestFiniteMagnitude) else {
                return .failure(ModbusWriteError("value \(describe(engineering)) is out of range for float32"))
            }
            return .success(UInt64(Float(scaled).bitPattern))
        case .float64:
            guard scaled.isFinite else {
                return .failure(ModbusWriteError("value \(describe(engineering)) is out of range for float64"))
            }
            return .success(Double(scaled).bitPattern)
        default:
            let rounded = scaled.rounded()
            guard rounded.isFinite, let whole = Int128(exactly: rounded) else {
                return .failure(ModbusWriteError("value \(describe(engineering)) is out of range for \(type.rawValue)"))
            }
            return integer(whole, type, shown: describe(engineering))
        }
    }

    /// The inclusive limits of an integer type.
    static func limits(_ type: ModbusValueType) -> ClosedRange<Int128> {
        switch type {
        case .int16: Int128(Int16.min)...Int128(Int16.max)
        case .uint16: 0...Int128(UInt16.max)
        case .int32: Int128(Int32.min)...Int128(Int32.max)
        case .uint32: 0...Int128(UInt32.max)
        case .int64: Int128(Int64.min)...Int128(Int64.max)
        case .uint64: 0...Int128(UInt64.max)
        default: 0...0
        }
    }

    private static func integer(_ value: Int128, _ type: ModbusValueType, shown: String) -> Result<
        UInt64, ModbusWriteError
    > {
        let range = limits(type)
        guard range.contains(value) else {
            return .failure(
                ModbusWriteError(
                    "value \(shown) is out of range for \(type.rawValue) (\(range.lowerBound) to \(range.upperBound))"))
        }
        // Two's complement in 64 bits; the codec keeps only the point's width of it.
        return .success(UInt64(truncatingIfNeeded: value))
    }

    private static func describe(_ value: Double) -> String {
        ModbusWrite.render(value)
    }
}
