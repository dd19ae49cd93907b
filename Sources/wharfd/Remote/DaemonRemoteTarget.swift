import AdminAPI
import Broker
import RemoteConfigHost
import RemoteConfigState
import Synchronization
import Uplink
import WharfAuth
import WharfChecks
import WharfConfig
import WharfGateway

/// Remote configuration's view of the running daemon: checks and applies configurations the way
/// `wharfctl check` and SIGHUP do, asks the health check, publishes the report and restarts.
struct DaemonRemoteTarget: RemoteConfigTarget {
    let runtime: DaemonRuntime
    let levels: LogLevels
    let control: UplinkControl?
    let reportedTopic: String
    let restart: RestartRequest

    func check(_ running: RunningConfiguration, acl: String?, checkUplink: Bool) async -> [ReportedError] {
        let source = "remote:\(running.version)"
        var checked = running.configuration
        var problems: [ReportedError] = []
        if let acl {
            // The ACL is staged only once accepted: check its content here, and the rest without it.
            checked.broker.aclFile = ""
            do { _ = try AccessControlList(parsing: acl, file: "\(source) acl") } catch {
                problems.append(ReportedError(path: "config.acl", message: "\(error) [invalid-config]"))
            }
        }
        for issue in ConfigCheck.adapterIssues(in: checked, file: source) {
            problems.append(ReportedError(path: "config." + issue.path, message: "\(issue.message) [invalid-config]"))
        }
        do { _ = try MQTTBroker.loadAccessControl(checked.broker) } catch {
            problems.append(ReportedError(path: "config.broker", message: "\(error) [invalid-config]"))
        }
        if checkUplink && checked.uplink.enabled {
            let uplink = Gateway.uplinkConfiguration(checked.uplink, gatewayID: runtime.gatewayID)
            for problem in await UplinkPreflight.problems(uplink) {
                problems.append(
                    ReportedError(path: "config." + problem.path, message: "\(problem.message) [uplink-preflight]"))
            }
        }
        return problems
    }

    func applyLive(_ running: RunningConfiguration) async -> [ReportedError] {
        let source = running.version == 0 ? "local file" : "remote:\(running.version)"
        do {
            _ = try runtime.applyLive(running.configuration, file: source, levels: levels)
            return []
        } catch {
            switch error {
            case .accessControl(let problem): return [ReportedError(path: "config.acl", message: problem)]
            case .adapters(let issues):
                return issues.map { ReportedError(path: "config." + $0.path, message: $0.message) }
            }
        }
    }

    func restartDaemon() {
        restart.request()
    }

    func healthy() async -> Bool {
        guard await runtime.health().problems.isEmpty else { return false }
        return runtime.supervisor.statuses().allSatisfy { $0.health == "healthy" || $0.health == "degraded" }
    }

    func publishReport(_ document: String) {
        control?.setRetained(topic: reportedTopic, payload: Array(document.utf8))
    }
}

/// A request to restart the daemon, made by remote configuration and carried out by `main` once
/// the services have stopped: through systemd when it runs under systemd, by re-executing itself
/// otherwise.
final class RestartRequest: Sendable {
    private let requested = Atomic<Bool>(false)
    private let shutdown = Mutex<(@Sendable () -> Void)?>(nil)

    /// Whether a restart was requested.
    var isRequested: Bool { requested.load(ordering: .acquiring) }

    /// Sets what stops the services gracefully.
    func onRequest(_ action: @escaping @Sendable () -> Void) {
        shutdown.withLock { $0 = action }
    }

    /// Requests the restart and stops the services.
    func request() {
        requested.store(true, ordering: .releasing)
        shutdown.withLock { $0 }?()
    }
}
