import WharfCore

@testable import WharfPlugins

/// One second in nanoseconds of a `WharfClock`.
let second: UInt64 = 1_000_000_000

/// `value` seconds in nanoseconds.
func seconds(_ value: Double) -> UInt64 { UInt64(value * 1e9) }

typealias Action = PluginSupervisor.Action

extension PluginSupervisor {
    /// A supervisor named "line1" with a seeded jitter source.
    static func make(_ policy: PluginSupervisionPolicy = .standard, seed: UInt64 = 1) -> PluginSupervisor {
        PluginSupervisor(name: "line1", policy: policy, rng: SplitMix64(seed: seed))
    }

    /// Starts (or restarts from backoff) and brings the plugin to `running` at `now`.
    mutating func bringUp(at now: UInt64) {
        if state == .backingOff {
            _ = tick(now: now)
        } else {
            _ = start(now: now)
        }
        _ = spawned(now: now)
        _ = ready(now: now)
    }
}

extension Array where Element == PluginSupervisor.Action {
    /// How many `.spawn` actions there are.
    var spawns: Int { filter { $0 == .spawn }.count }

    /// The `.report` actions' payloads.
    var reports: [PluginSupervisor.Report] {
        compactMap {
            if case .report(let state, let health, let detail) = $0 {
                return PluginSupervisor.Report(state: state, health: health, detail: detail)
            }
            return nil
        }
    }

    /// The log lines.
    var logs: [String] {
        compactMap {
            if case .log(_, let message) = $0 { return message }
            return nil
        }
    }

    /// The signals sent.
    var signals: [PluginSupervisor.Signal] {
        compactMap {
            if case .signal(let signal) = $0 { return signal }
            return nil
        }
    }
}
