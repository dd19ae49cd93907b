/// One data point of a device: where it lives, how it is encoded and how it is published.
public struct ModbusPointConfig: Sendable, Equatable {
    /// Point name, unique in its device.
    public var name: String
    /// The Modbus table it is read from.
    public var table: ModbusTable
    /// 0-based protocol address of its first register or bit.
    public var address: Int
    /// How the raw registers or bits are interpreted.
    public var type: ModbusValueType
    /// Byte and word order of multi-byte values.
    public var order: ModbusWordOrder = .abcd
    /// Length in registers (strings only).
    public var length: Int = 0
    /// Bit of a register (bool points on holding/input only).
    public var bit: Int?
    /// `value = raw * scale + offset`.
    public var scale: Double = 1
    /// `value = raw * scale + offset`.
    public var offset: Double = 0
    /// Unit copied into the payload.
    public var unit: String?
    /// When readings are published.
    public var publish: ModbusPublishMode = .everyPoll
    /// With `on_change`, the change a numeric value must exceed to be published.
    public var deadband: Double = 0
    /// Poll interval overriding the device's.
    public var pollInterval: Duration?
    /// Whether writes through the command topic are allowed.
    public var writable: Bool = false
    /// Smallest value a write may set (engineering units).
    public var min: Double?
    /// Largest value a write may set (engineering units).
    public var max: Double?

    /// Creates a point.
    public init(name: String, table: ModbusTable, address: Int, type: ModbusValueType) {
        self.name = name
        self.table = table
        self.address = address
        self.type = type
    }

    /// How many registers (or bits) the point occupies.
    public var width: Int {
        switch type {
        case .bool: 1
        case .int16, .uint16: 1
        case .int32, .uint32, .float32: 2
        case .int64, .uint64, .float64: 4
        case .string: length
        }
    }

    /// Whether scale and offset leave raw values unchanged.
    public var isUnscaled: Bool { scale == 1 && offset == 0 }
}

/// The four Modbus data tables.
public enum ModbusTable: String, Sendable, Hashable, CaseIterable {
    /// Read/write bits (functions 1, 5, 15).
    case coil
    /// Read-only bits (function 2).
    case discrete
    /// Read/write registers (functions 3, 6, 16).
    case holding
    /// Read-only registers (function 4).
    case input

    /// Whether the table holds bits rather than 16-bit registers.
    public var isBits: Bool { self == .coil || self == .discrete }

    /// Whether the table can be written.
    public var isWritable: Bool { self == .coil || self == .holding }

    /// The most items one read request may ask for.
    public var maxReadCount: Int { isBits ? 2000 : 125 }
}

/// How a point's registers are interpreted.
public enum ModbusValueType: String, Sendable, Hashable, CaseIterable {
    /// A coil, discrete input, or one bit of a register.
    case bool
    /// Signed 16 bits.
    case int16
    /// Unsigned 16 bits.
    case uint16
    /// Signed 32 bits in two registers.
    case int32
    /// Unsigned 32 bits in two registers.
    case uint32
    /// Signed 64 bits in four registers.
    case int64
    /// Unsigned 64 bits in four registers.
    case uint64
    /// IEEE 754 single precision in two registers.
    case float32
    /// IEEE 754 double precision in four registers.
    case float64
    /// ASCII text, two characters per register.
    case string

    /// Whether values are numbers (scale, offset, deadband and min/max apply).
    public var isNumeric: Bool { self != .bool && self != .string }

    /// Whether values are IEEE floats.
    public var isFloat: Bool { self == .float32 || self == .float64 }
}

/// When a point's readings are published.
public enum ModbusPublishMode: String, Sendable, Hashable, CaseIterable {
    /// After every successful read.
    case everyPoll = "every_poll"
    /// When the value changed by more than the deadband.
    case onChange = "on_change"
}

/// Byte and word order of a value spanning several registers, named by where the bytes of the
/// big-endian value `ABCD…` land in register order.
public struct ModbusWordOrder: Sendable, Hashable {
    /// Swap the two bytes of every register.
    public var swapBytes: Bool
    /// Reverse the order of the registers.
    public var swapWords: Bool

    /// Creates an order.
    public init(swapBytes: Bool, swapWords: Bool) {
        self.swapBytes = swapBytes
        self.swapWords = swapWords
    }

    /// Big-endian: ABCD / ABCDEFGH.
    public static let abcd = ModbusWordOrder(swapBytes: false, swapWords: false)
    /// Bytes swapped in each register: BADC / BADCFEHG.
    public static let badc = ModbusWordOrder(swapBytes: true, swapWords: false)
    /// Registers reversed: CDAB / GHEFCDAB.
    public static let cdab = ModbusWordOrder(swapBytes: false, swapWords: true)
    /// Little-endian: DCBA / HGFEDCBA.
    public static let dcba = ModbusWordOrder(swapBytes: true, swapWords: true)

    /// The names accepted for 32-bit values.
    static let names32: [String: ModbusWordOrder] = ["ABCD": .abcd, "BADC": .badc, "CDAB": .cdab, "DCBA": .dcba]
    /// The names accepted for 64-bit values (the 4-letter names mean the same pattern).
    static let names64: [String: ModbusWordOrder] = names32.merging(
        ["ABCDEFGH": .abcd, "BADCFEHG": .badc, "GHEFCDAB": .cdab, "HGFEDCBA": .dcba], uniquingKeysWith: { a, _ in a })
}
