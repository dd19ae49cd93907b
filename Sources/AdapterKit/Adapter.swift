public import Logging
public import NIOCore
public import ServiceLifecycle
public import WharfConfig
public import WharfCore

/// A protocol adapter built into Wharf (Modbus, CoAP, the exec-plugin host, ...).
///
/// An adapter is built from its `adapters[]` section of the config, runs as a service until
/// cancelled or until graceful shutdown, and talks to the rest of Wharf only through its
/// ``AdapterContext``.
public protocol Adapter: Service {
    /// The `type:` value in the config that selects this adapter.
    static var typeName: String { get }

    /// Builds the adapter from its config section, or reports every problem in it.
    init(config: AdapterConfig, context: AdapterContext) throws(ConfigError)

    /// The adapter's current health, for status pages and metrics.
    var health: AdapterHealth { get }
}

/// What an adapter is given to do its work.
public struct AdapterContext: Sendable {
    /// The adapter instance's name from the config.
    public var name: String
    /// Who the adapter is to the router's ACL (`adapter:NAME`): what it publishes carries this
    /// principal, and it subscribes under it.
    public var principal: Principal
    /// The broker's in-process router.
    public var bus: any MessageBus
    /// A logger with `adapter.name` and `adapter.type` metadata.
    public var logger: Logger
    /// The clock for intervals, timeouts and backoff.
    public var clock: any WharfClock
    /// wharfd's event loops, for adapters that do their I/O with SwiftNIO; `nil` lets such an
    /// adapter use NIO's shared group.
    public var eventLoopGroup: (any EventLoopGroup)?

    /// Creates a context.
    public init(
        name: String,
        bus: any MessageBus,
        logger: Logger,
        clock: any WharfClock,
        eventLoopGroup: (any EventLoopGroup)? = nil
    ) {
        self.name = name
        self.principal = .adapter(name)
        self.bus = bus
        self.logger = logger
        self.clock = clock
        self.eventLoopGroup = eventLoopGroup
    }
}

/// An adapter's health as shown to operators.
public enum AdapterHealth: Sendable, Hashable {
    /// Starting up, not yet talking to its devices.
    case starting
    /// Working.
    case healthy
    /// Partly working; the string says what is wrong.
    case degraded(String)
    /// Not working; the string says why.
    case failed(String)
    /// Stopped.
    case stopped
}
