/// An adapter that runs a supervised process of its own (a plugin): operators can restart it,
/// and a reload that leaves its section unchanged still clears its quarantine.
public protocol ProcessAdapter: Adapter {
    /// What the process is doing, for `/api/v1/status` and `wharfctl status`.
    var processStatus: ProcessStatus { get }

    /// Restarts the process now, clearing a quarantine and the crash history (an operator's
    /// `wharfctl plugin restart NAME`).
    func restart()

    /// Called on a reload that kept this adapter's section as it was: clears a quarantine.
    func reloadedUnchanged()
}

/// The state of a supervised plugin process.
public struct ProcessStatus: Codable, Sendable, Equatable {
    /// `starting`, `running`, `backoff`, `quarantined`, `stopping` or `stopped`.
    public var state: String
    /// The launcher's process id while one runs.
    public var pid: Int?
    /// Restarts after crashes, hangs and violations since wharfd started.
    public var restarts: Int
    /// The protocol version agreed in the handshake.
    public var `protocol`: Int?
    /// The name the plugin gave in `ready`.
    public var name: String?
    /// The version the plugin gave in `ready`.
    public var version: String?
    /// Publishes acknowledged.
    public var publishes: Int
    /// Publishes refused (`nack`).
    public var nacks: Int
    /// Commands written to the plugin.
    public var commands: Int
    /// Commands dropped because the plugin did not read them, or was not running.
    public var commandsDropped: Int
    /// Times the plugin published beyond its credit and was throttled.
    public var creditStalls: Int
    /// Lines that were not valid protocol.
    public var garbageLines: Int
    /// Subscriptions the router refused, with why.
    public var refusedSubscriptions: [String]

    /// Creates a status.
    public init(
        state: String,
        pid: Int? = nil,
        restarts: Int = 0,
        protocol: Int? = nil,
        name: String? = nil,
        version: String? = nil,
        publishes: Int = 0,
        nacks: Int = 0,
        commands: Int = 0,
        commandsDropped: Int = 0,
        creditStalls: Int = 0,
        garbageLines: Int = 0,
        refusedSubscriptions: [String] = []
    ) {
        self.state = state
        self.pid = pid
        self.restarts = restarts
        self.protocol = `protocol`
        self.name = name
        self.version = version
        self.publishes = publishes
        self.nacks = nacks
        self.commands = commands
        self.commandsDropped = commandsDropped
        self.creditStalls = creditStalls
        self.garbageLines = garbageLines
        self.refusedSubscriptions = refusedSubscriptions
    }

    enum CodingKeys: String, CodingKey {
        case state, pid, restarts, `protocol`, name, version, publishes, nacks, commands
        case commandsDropped = "commands_dropped"
        case creditStalls = "credit_stalls"
        case garbageLines = "garbage_lines"
        case refusedSubscriptions = "refused_subscriptions"
    }
}
