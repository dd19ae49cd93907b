import AdapterKit
import PluginProtocol
import Synchronization

/// What one plugin adapter shows the rest of wharfd, updated by its runner and its session and
/// read by the status API: a snapshot behind a lock, never held across anything slow.
final class PluginBoard: Sendable {
    struct Snapshot: Sendable {
        var state = "starting"
        var health: AdapterHealth = .starting
        var pid: Int?
        var restarts = 0
        var protocolVersion: Int?
        var pluginName: String?
        var pluginVersion: String?
        var publishes = 0
        var nacks = 0
        var commands = 0
        var commandsDropped = 0
        var creditStalls = 0
        var garbageLines = 0
        var refusedSubscriptions: [String] = []
    }

    private let snapshot = Mutex(Snapshot())

    /// Changes the snapshot.
    func update(_ change: (inout Snapshot) -> Void) {
        snapshot.withLock { change(&$0) }
    }

    /// A copy of the snapshot.
    func read() -> Snapshot {
        snapshot.withLock { $0 }
    }

    /// The status API's view.
    var processStatus: ProcessStatus {
        let now = read()
        return ProcessStatus(
            state: now.state,
            pid: now.pid,
            restarts: now.restarts,
            protocol: now.protocolVersion,
            name: now.pluginName,
            version: now.pluginVersion,
            publishes: now.publishes,
            nacks: now.nacks,
            commands: now.commands,
            commandsDropped: now.commandsDropped,
            creditStalls: now.creditStalls,
            garbageLines: now.garbageLines,
            refusedSubscriptions: now.refusedSubscriptions
        )
    }
}
