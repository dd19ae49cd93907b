/// Log verbosity (`log:` section).
public struct LogConfig: Sendable, Equatable {
    /// The lowest level that is logged.
    public var level: LogLevel
    /// Per-component overrides of `level`, such as `broker: debug`.
    public var components: [String: LogLevel]

    /// Creates the section.
    public init(level: LogLevel = .info, components: [String: LogLevel] = [:]) {
        self.level = level
        self.components = components
    }

    /// The level in effect for a component: its override, or the overall level.
    public func level(for component: String) -> LogLevel {
        components[component] ?? level
    }
}

/// Log levels, from most to least verbose; the names match swift-log's `Logger.Level`.
public enum LogLevel: String, Sendable, CaseIterable, Comparable {
    /// Everything, including per-packet detail.
    case trace
    /// Detail useful when diagnosing a problem.
    case debug
    /// Normal operation: starts, stops, connections.
    case info
    /// Normal but significant events.
    case notice
    /// Something unexpected that Wharf worked around.
    case warning
    /// Something failed.
    case error
    /// Wharf cannot continue as configured.
    case critical

    /// Orders levels by severity: `trace < debug < ... < critical`.
    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool {
        let order = LogLevel.allCases
        return (order.firstIndex(of: lhs) ?? 0) < (order.firstIndex(of: rhs) ?? 0)
    }
}
