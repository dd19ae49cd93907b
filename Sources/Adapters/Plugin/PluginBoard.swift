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

    /// A caller of ``status(where:)`` waiting for its condition.
    private struct Waiter {
        var id: Int
        var condition: @Sendable (ProcessStatus) -> Bool
        var continuation: CheckedContinuation<ProcessStatus, Never>
    }

    private struct State {
        var snapshot = Snapshot()
        var waiters: [Waiter] = []
        var nextWaiter = 0
        /// Waiters that have an id but are not registered yet.
        var unregistered: Set<Int> = []
        /// Waiters cancelled before they were registered.
        var cancelled: Set<Int> = []
    }

    private let state = Mutex(State())

    /// Changes the snapshot, and wakes the waiters whose condition it now meets.
    func update(_ change: (inout Snapshot) -> Void) {
        let woken: [(CheckedContinuation<ProcessStatus, Never>, ProcessStatus)] = state.withLock { state in
            change(&state.snapshot)
            guard !state.waiters.isEmpty else { return [] }
            let status = Self.status(of: state.snapshot)
            var woken: [(CheckedContinuation<ProcessStatus, Never>, ProcessStatus)] = []
            state.waiters.removeAll { waiter in
                guard waiter.condition(status) else { return false }
                woken.append((waiter.continuation, status))
                return true
            }
            return woken
        }
        for (continuation, status) in woken { continuation.resume(returning: status) }
    }

    /// A copy of the snapshot.
    func read() -> Snapshot {
        state.withLock { $0.snapshot }
    }

    /// The status API's view.
    var processStatus: ProcessStatus { Self.status(of: read()) }

    /// The status once `condition` holds: at once when it already does, else at the first change
    /// that makes it hold, without polling. Cancellation returns the status as it is then.
    func status(where condition: @escaping @Sendable (ProcessStatus) -> Bool) async -> ProcessStatus {
        let id = state.withLock { state in
            state.nextWaiter += 1
            state.unregistered.insert(state.nextWaiter)
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready: ProcessStatus? = state.withLock { state in
                    state.unregistered.remove(id)
                    let status = Self.status(of: state.snapshot)
                    if state.cancelled.remove(id) != nil || condition(status) { return status }
                    state.waiters.append(Waiter(id: id, condition: condition, continuation: continuation))
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let cancelled: (CheckedContinuation<ProcessStatus, Never>, ProcessStatus)? = state.withLock { state in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else {
                    // Not registered yet: registration returns at once. Already woken: nothing to do.
                    if state.unregistered.remove(id) != nil { state.cancelled.insert(id) }
                    return nil
                }
                let waiter = state.waiters.remove(at: index)
                return (waiter.continuation, Self.status(of: state.snapshot))
            }
            if let (continuation, status) = cancelled { continuation.resume(returning: status) }
        }
    }

    private static func status(of snapshot: Snapshot) -> ProcessStatus {
        ProcessStatus(
            state: snapshot.state,
            pid: snapshot.pid,
            restarts: snapshot.restarts,
            protocol: snapshot.protocolVersion,
            name: snapshot.pluginName,
            version: snapshot.pluginVersion,
            publishes: snapshot.publishes,
            nacks: snapshot.nacks,
            commands: snapshot.commands,
            commandsDropped: snapshot.commandsDropped,
            creditStalls: snapshot.creditStalls,
            garbageLines: snapshot.garbageLines,
            refusedSubscriptions: snapshot.refusedSubscriptions
        )
    }
}
