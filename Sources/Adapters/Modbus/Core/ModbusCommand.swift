#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A value received on a command topic, before it is checked against its point.
public enum ModbusCommandValue: Sendable, Hashable {
    /// `true` / `false`.
    case bool(Bool)
    /// A whole JSON number that fits an Int64.
    case integer(Int64)
    /// A whole JSON number above Int64.max that fits a UInt64.
    case unsigned(UInt64)
    /// Any other JSON number.
    case number(Double)
    /// A JSON string.
    case text(String)

    /// Parses a command payload: a bare JSON value (`12.5`, `true`, `"text"`) or `{"value": ...}`.
    public static func parse(_ payload: [UInt8]) -> Result<ModbusCommandValue, ModbusWriteError> {
        let data = Data(payload)
        if let bare = try? JSONDecoder().decode(Scalar.self, from: data) { return .success(bare.value) }
        if let wrapped = try? JSONDecoder().decode(Wrapped.self, from: data) { return .success(wrapped.value.value) }
        return .failure(
            ModbusWriteError(
                "expected a JSON value (12.5, true, \"text\") or {\"value\": ...} as the command payload"))
    }

    private struct Wrapped: Decodable {
        var value: Scalar
    }

    private struct Scalar: Decodable {
        var value: ModbusCommandValue

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let flag = try? container.decode(Bool.self) {
                value = .bool(flag)
            } else if let number = try? container.decode(Int64.self) {
                value = .integer(number)
            } else if let number = try? container.decode(UInt64.self) {
                value = .unsigned(number)
            } else if let number = try? container.decode(Double.self) {
                value = .number(number)
            } else {
                value = .text(try container.decode(String.self))
            }
        }
    }
}

/// Why a write was refused or failed; the message is published in the result.
public struct ModbusWriteError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A sentence for the result payload and logs.
    public var message: String

    /// Creates an error.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
