public import WharfCore

/// The settings of one Modbus adapter instance, read from its `adapters[]` entry.
public struct ModbusConfig: Sendable, Equatable {
    /// Telemetry topic template; `{adapter}`, `{device}` and `{point}` are replaced.
    public var topic: String = "devices/{device}/{point}"
    /// Topic template a point's writes arrive on.
    public var commandTopic: String = "devices/{device}/{point}/set"
    /// Topic template the outcome of a write is published on.
    public var resultTopic: String = "devices/{device}/{point}/set/result"
    /// Topic template of a device's retained health message.
    public var statusTopic: String = "devices/{device}/$status"
    /// QoS of telemetry messages.
    public var qos: QoS = .atLeastOnce
    /// Whether telemetry messages are retained.
    public var retain: Bool = false
    /// How reconnect attempts to an unreachable device are spaced.
    public var backoff = BackoffPolicy(base: .seconds(1), cap: .seconds(60), stableAfter: .seconds(30))
    /// The devices polled by this instance.
    public var devices: [ModbusDeviceConfig] = []

    /// Creates a configuration with the defaults and no devices.
    public init() {}
}

/// One Modbus device (a server reached over TCP or through a serial line).
public struct ModbusDeviceConfig: Sendable, Equatable {
    /// Device name (`[a-z0-9_-]+`), used in topics, logs and metrics.
    public var name: String
    /// How the device is reached.
    public var transport: ModbusTransport
    /// Unit identifier (slave address).
    public var unitID: Int
    /// How long to wait for the start of a response.
    public var responseTimeout: Duration = .seconds(1)
    /// How long to wait between two bytes of a response.
    public var byteTimeout: Duration = .milliseconds(500)
    /// Default poll interval of the device's points; zero polls back to back.
    public var pollInterval: Duration = .seconds(1)
    /// Unused registers (or coils) one batched read may span between two points.
    public var maxGap: Int = 8
    /// The device's data points.
    public var points: [ModbusPointConfig] = []

    /// Creates a device.
    public init(name: String, transport: ModbusTransport, unitID: Int = 1, points: [ModbusPointConfig] = []) {
        self.name = name
        self.transport = transport
        self.unitID = unitID
        self.points = points
    }

    /// The poll interval of `point`: its own or the device's.
    public func interval(of point: ModbusPointConfig) -> Duration {
        point.pollInterval ?? pollInterval
    }
}

/// How a device is reached.
public enum ModbusTransport: Sendable, Hashable {
    /// Modbus TCP.
    case tcp(host: String, port: Int)
    /// Modbus RTU on a serial line.
    case rtu(ModbusSerialLine)

    /// A key that is equal for devices sharing one connection worker: each TCP device has its
    /// own, the devices of one serial port share theirs.
    public var lineKey: String {
        switch self {
        case .tcp(let host, let port): "tcp:\(host):\(port)"
        case .rtu(let line): "rtu:\(line.device)"
        }
    }
}

/// Serial settings of an RTU line.
public struct ModbusSerialLine: Sendable, Hashable {
    /// Serial device path, such as `/dev/ttyUSB0`.
    public var device: String
    /// Baud rate.
    public var baud: Int = 9600
    /// Parity.
    public var parity: ModbusParity = .none
    /// Data bits (5 to 8).
    public var dataBits: Int = 8
    /// Stop bits (1 or 2).
    public var stopBits: Int = 1
    /// Whether the port is switched to RS-485 mode.
    public var rs485: Bool = false

    /// Creates a line with 9600 8N1 defaults.
    public init(device: String) {
        self.device = device
    }
}

/// Serial parity.
public enum ModbusParity: String, Sendable, Hashable, CaseIterable {
    /// No parity bit.
    case none
    /// Even parity.
    case even
    /// Odd parity.
    case odd
}
