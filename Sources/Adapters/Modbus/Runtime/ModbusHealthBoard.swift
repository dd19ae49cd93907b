import AdapterKit
import Synchronization

/// The health of every device of an adapter, shared by the device tasks and `ModbusAdapter.health`.
final class ModbusHealthBoard: Sendable {
    /// One device's state.
    enum DeviceState: Sendable, Hashable {
        case starting
        case online
        case offline(String)
    }

    private let states: Mutex<[(name: String, state: DeviceState)]>
    private let running = Mutex(false)

    init(devices: [String]) {
        states = Mutex(devices.map { ($0, DeviceState.starting) })
    }

    func set(_ device: String, _ state: DeviceState) {
        states.withLock { states in
            if let index = states.firstIndex(where: { $0.name == device }) { states[index].state = state }
        }
    }

    func setRunning(_ flag: Bool) {
        running.withLock { $0 = flag }
    }

    /// The adapter's health from its devices' states.
    var health: AdapterHealth {
        guard running.withLock({ $0 }) else { return .stopped }
        return Self.health(states.withLock { $0 })
    }

    /// Healthy when all are online, failed when all are offline, degraded in between.
    static func health(_ states: [(name: String, state: DeviceState)]) -> AdapterHealth {
        let offline = states.compactMap { entry -> String? in
            if case .offline(let reason) = entry.state { return "\(entry.name) (\(reason))" }
            return nil
        }
        if states.isEmpty { return .healthy }
        if offline.count == states.count {
            return .failed("all \(states.count) devices offline: " + offline.joined(separator: ", "))
        }
        if !offline.isEmpty {
            return .degraded("\(offline.count) of \(states.count) devices offline: " + offline.joined(separator: ", "))
        }
        if states.contains(where: { $0.state == .starting }) { return .starting }
        return .healthy
    }
}
