public import AdapterKit
public import WharfConfig

/// The Modbus adapter (`type: modbus`). Not built yet: configuring it stops `wharfd` with a clear error.
public struct ModbusAdapter: Adapter {
    /// The config's `type:` value.
    public static let typeName = "modbus"

    /// Always refuses: this build of Wharf has no Modbus support yet.
    public init(config: AdapterConfig, context: AdapterContext) throws(ConfigError) {
        throw ConfigError(issues: [
            ConfigIssue(
                file: config.source.file,
                path: "adapters.\(config.name).type",
                message: "the modbus adapter is not available in this build of wharfd yet"
            )
        ])
    }

    /// Never reached: init(config:context:) always throws.
    public var health: AdapterHealth { .stopped }

    /// Never reached: init(config:context:) always throws.
    public func run() async throws {}
}
