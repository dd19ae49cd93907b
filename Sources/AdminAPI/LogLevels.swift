public import Logging
import Synchronization
public import WharfConfig

/// The log levels in effect, overall and per component, shared by every ``WharfLogHandler`` so
/// that a reload changes them for loggers that already exist.
public final class LogLevels: Sendable {
    private let config: Mutex<LogConfig>

    /// Starts with `config`.
    public init(_ config: LogConfig) {
        self.config = Mutex(config)
    }

    /// Replaces the levels; loggers see the change at their next message.
    public func update(_ config: LogConfig) {
        self.config.withLock { $0 = config }
    }

    /// The level for a component (the last dotted part of a logger label: `broker`, `uplink`, an
    /// adapter's name).
    public func level(for component: String) -> Logger.Level {
        Logger.Level(config.withLock { $0.level(for: component) })
    }
}

extension Logger.Level {
    /// The swift-log level of a config level (the names are the same).
    public init(_ level: LogLevel) {
        switch level {
        case .trace: self = .trace
        case .debug: self = .debug
        case .info: self = .info
        case .notice: self = .notice
        case .warning: self = .warning
        case .error: self = .error
        case .critical: self = .critical
        }
    }
}
