/// A failed Modbus request, classified for metrics (`kind` label) and for the device's health.
public struct ModbusIOError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as the `kind` label of `wharf_modbus_errors_total`.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// No (complete) answer within the response timeout.
        case timeout
        /// The device answered with a Modbus exception.
        case exception
        /// The connection could not be made or broke.
        case connection
        /// The answer was malformed (CRC, length, unexpected data).
        case decode
    }

    /// The class of failure.
    public var kind: Kind
    /// A short reason such as `connection refused` or `illegal data address`.
    public var reason: String

    /// Creates an error.
    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    /// Whether the device must be treated as unreachable (offline, reconnect with backoff).
    public var takesDeviceOffline: Bool { kind == .timeout || kind == .connection }

    public var description: String { reason }
}
