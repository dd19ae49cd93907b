import AdminAPI
import Logging
import RemoteConfigHost
import ServiceLifecycle
import UnixSignals
import WharfConfig
import WharfGateway
import WharfSupport

/// Reloads the configuration file on SIGHUP. An invalid file changes nothing: every problem is
/// logged and the daemon keeps its configuration. A valid one is applied where that is possible
/// without dropping clients (log levels, adapters, the password file, ACL, `allow_anonymous`
/// and `allow_empty_passwords`); changes to sections that need a restart are
/// logged as such and stay out of the effective configuration until then.
struct ConfigReloader: Service, CustomStringConvertible {
    let path: String
    let hangups: UnixSignalsSequence
    let runtime: DaemonRuntime
    let levels: LogLevels
    let notifier: SystemdNotifier
    /// The command-line overrides given at start (`--listen`, `--data-dir`), applied again.
    let overrides: @Sendable (inout WharfConfiguration) -> Void
    /// Remote configuration, whose running version is overlaid on the file again.
    let remote: RemoteConfigHost?
    let logger = Logger(label: "wharf.reload")

    /// Sections that only take effect when the daemon starts.
    static let restartSections: [(String, @Sendable (WharfConfiguration, WharfConfiguration) -> Bool)] = [
        ("gateway", { $0.gateway != $1.gateway }),
        ("storage", { $0.storage != $1.storage }),
        ("broker", { $0.broker != $1.broker }),
        ("uplink", { $0.uplink != $1.uplink }),
        ("admin", { $0.admin != $1.admin }),
    ]

    var description: String { "ConfigReloader" }

    func run() async {
        for await _ in hangups.cancelOnGracefulShutdown() {
            reload()
        }
    }

    /// Reads, validates and applies the file once.
    func reload() {
        notifier.reloading(status: "reloading \(path)")
        logger.notice("SIGHUP: reloading the configuration", metadata: ["config.file": "\(path)"])
        var next: WharfConfiguration
        do {
            let (tree, local) = try ConfigFile.loadTree(path: path)
            next = local
            if let remote {
                switch remote.localFileChanged(tree: tree, configuration: local) {
                case .success(let running): next = running.configuration
                case .failure(let problems):
                    reject(problems.description.split(separator: "\n").map(String.init))
                    return
                }
            }
        } catch {
            // The last line only counts the problems above it.
            let lines = error.description.split(separator: "\n").map(String.init)
            reject(lines.count > 1 && lines.last?.hasSuffix("found") == true ? Array(lines.dropLast()) : lines)
            return
        }
        overrides(&next)
        let current = runtime.configuration
        let effective: WharfConfiguration
        var applied: [String] = []
        do {
            let (live, stopped, started) = try runtime.applyLive(next, file: path, levels: levels)
            effective = live
            if !stopped.isEmpty || !started.isEmpty {
                applied.append("adapters")
                logger.notice(
                    "adapters changed",
                    metadata: [
                        "adapters.stopped": "\(stopped.joined(separator: ","))",
                        "adapters.started": "\(started.joined(separator: ","))",
                    ]
                )
            }
        } catch {
            switch error {
            case .accessControl(let problem): reject([problem])
            case .adapters(let issues): reject(issues.map(\.description))
            }
            return
        }
        applied.append("access control")
        if next.log != current.log {
            applied.append("log")
            logger.notice("log levels changed", metadata: ["log.level": "\(next.log.level.rawValue)"])
        }
        var pending: [String] = []
        for (section, changed) in Self.restartSections where changed(next, effective) {
            pending.append("\(section): changed; takes effect after restart")
            logger.warning(
                "configuration section changed; takes effect after restart", metadata: ["config.section": "\(section)"])
        }
        runtime.recordReload(outcome: "applied", messages: pending)
        let summary = applied.isEmpty ? "nothing to apply live" : "applied \(applied.joined(separator: ", "))"
        let restart =
            pending.isEmpty ? "" : "; restart needed for \(pending.count) section\(pending.count == 1 ? "" : "s")"
        logger.notice("configuration reloaded", metadata: ["reload.applied": "\(applied.joined(separator: ","))"])
        notifier.ready(status: "reloaded: \(summary)\(restart); \(runtime.statusLine())")
    }

    private func reject(_ problems: [String]) {
        for problem in problems {
            logger.error("reload rejected", metadata: ["config.problem": "\(problem)"])
        }
        logger.error(
            "reload rejected; still running on the previous configuration",
            metadata: ["config.file": "\(path)", "config.problems": "\(problems.count)"]
        )
        runtime.recordReload(outcome: "rejected", messages: problems)
        notifier.ready(
            status:
                "reload rejected (\(problems.first ?? "invalid configuration")); running on the previous configuration"
        )
    }
}
