/// Decides whether a point's reading is published. Pure.
///
/// `every_poll` points publish every good reading; `on_change` points publish when the value moved by
/// more than the deadband (any change for deadband 0, and for bools and strings). A failure publishes
/// once, on the transition from good; the first good reading after it is always published.
public struct ModbusPointState: Sendable, Hashable {
    private enum Last: Sendable, Hashable {
        case none
        case good(ModbusValue)
        case failed
    }

    private var last: Last = .none

    /// A point that has published nothing yet.
    public init() {}

    /// Whether the last thing published was a failure.
    public var isFailed: Bool { last == .failed }

    /// Records a good reading; returns whether to publish it.
    public mutating func reading(_ value: ModbusValue, mode: ModbusPublishMode, deadband: Double) -> Bool {
        guard mode == .onChange, case .good(let previous) = last else {
            last = .good(value)
            return true
        }
        // The last published value stays the reference, so a slow drift still crosses the deadband.
        let changed = Self.changed(from: previous, to: value, deadband: deadband)
        if changed { last = .good(value) }
        return changed
    }

    /// Records a failed read; returns whether to publish the failure (only on the transition).
    public mutating func failure() -> Bool {
        defer { last = .failed }
        return last != .failed
    }

    /// Whether `new` differs from `old` by more than `deadband`.
    public static func changed(from old: ModbusValue, to new: ModbusValue, deadband: Double) -> Bool {
        switch (old, new) {
        case (.bool(let a), .bool(let b)): return a != b
        case (.text(let a), .text(let b)): return a != b
        case (.integer(let a), .integer(let b)) where deadband == 0: return a != b
        case (.unsigned(let a), .unsigned(let b)) where deadband == 0: return a != b
        default:
            guard let a = old.doubleValue, let b = new.doubleValue else { return true }
            if !a.isFinite || !b.isFinite {
                if a.isNaN && b.isNaN { return false }
                return a != b
            }
            return deadband == 0 ? a != b : abs(b - a) > deadband
        }
    }
}
