public import WharfConfig

/// What a new configuration changes compared with the running one, and how it must be applied:
/// adapters, log levels and the ACL live (as SIGHUP does), everything else by a restart.
public struct ConfigChanges: Sendable, Equatable {
    /// The parts that change, as operators name them (`adapters`, `log`, `acl`, `uplink.forward`, `broker`).
    public var sections: [String]
    /// Whether a changed part only takes effect when the daemon starts.
    public var needsRestart: Bool
    /// Whether the uplink's connection settings (endpoint, TLS, credentials, identity) change.
    public var uplinkConnectionChanged: Bool

    /// The changes from `old` to `new`.
    public init(from old: WharfConfiguration, to new: WharfConfiguration) {
        var live: [String] = []
        var restart: [String] = []
        if old.adapters != new.adapters { live.append("adapters") }
        if old.log != new.log { live.append("log") }
        if old.broker.aclFile != new.broker.aclFile { live.append("acl") }
        if old.gateway != new.gateway { restart.append("gateway") }
        if old.storage != new.storage { restart.append("storage") }
        var oldBroker = old.broker
        oldBroker.aclFile = new.broker.aclFile
        if oldBroker != new.broker { restart.append("broker") }
        if old.uplink.forward != new.uplink.forward { restart.append("uplink.forward") }
        if old.uplink.subscribe != new.uplink.subscribe { restart.append("uplink.subscribe") }
        var oldUplink = old.uplink
        oldUplink.forward = new.uplink.forward
        oldUplink.subscribe = new.uplink.subscribe
        uplinkConnectionChanged = oldUplink != new.uplink
        if uplinkConnectionChanged { restart.append("uplink") }
        if old.admin != new.admin { restart.append("admin") }
        if old.remoteConfig != new.remoteConfig { restart.append("remote_config") }
        sections = live + restart
        needsRestart = !restart.isEmpty
    }
}
