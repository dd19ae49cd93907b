/// One adapter instance (an element of `adapters`): which adapter runs, under what name, with
/// which settings.
///
/// Wharf's schema checks only `name`, `type` and `enabled`; every other key is the adapter's own
/// and is kept raw in `settings` (and with positions in `source`) for the adapter to validate.
public struct AdapterConfig: Sendable, Equatable {
    /// Unique instance name (`[a-z0-9_-]+`), used in topics, logs and metrics.
    public var name: String
    /// Which adapter implementation runs this instance, such as `modbus` or `coap`.
    public var type: String
    /// Whether the instance runs; a disabled one is still validated.
    public var enabled: Bool
    /// The instance's section without `name`, `type` and `enabled`: a `.object`.
    public var settings: ConfigValue
    /// `settings` with file, line, column and key paths (`adapters[1].points[3]`) for error reports.
    public var source: ConfigNode

    /// Creates an adapter instance; `source` defaults to `settings` without positions.
    public init(
        name: String,
        type: String,
        enabled: Bool = true,
        settings: ConfigValue = .object([]),
        source: ConfigNode? = nil
    ) {
        self.name = name
        self.type = type
        self.enabled = enabled
        self.settings = settings
        self.source = source ?? ConfigNode(value: settings)
    }

    /// Compares what the instance does, not where it was written: moving a section in the file
    /// does not make it a different adapter (so a reload does not restart it).
    public static func == (lhs: AdapterConfig, rhs: AdapterConfig) -> Bool {
        lhs.name == rhs.name && lhs.type == rhs.type && lhs.enabled == rhs.enabled && lhs.settings == rhs.settings
    }
}
