/// A point's value in engineering units, as published.
public enum ModbusValue: Sendable, Hashable {
    /// A bit.
    case bool(Bool)
    /// A whole number read without scaling from a signed register type.
    case integer(Int64)
    /// A whole number read without scaling from an unsigned register type.
    case unsigned(UInt64)
    /// A scaled value or a float; may be NaN or infinite.
    case number(Double)
    /// Text.
    case text(String)

    /// The value as a Double, for numbers.
    public var doubleValue: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .unsigned(let value): Double(value)
        case .number(let value): value
        case .bool, .text: nil
        }
    }

    /// Whether the value can be published as good (floats that are NaN or infinite cannot).
    public var isFinite: Bool {
        if case .number(let value) = self { return value.isFinite }
        return true
    }
}
