import Logging
import RemoteConfigHost
import RemoteConfigState
import WharfConfig
import WharfCore
import WharfSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Remote configuration at start: what the record says to run, and the host that carries on.
struct RemoteStart {
    var plan: RemoteConfigStartup.Plan
    var files: RemoteConfigFiles
    var settings: RemoteConfigConfig
    var localTree: ConfigNode

    /// The cloud topic documents arrive on.
    func desiredTopic(_ gatewayID: String) -> String { settings.prefix(gatewayID: gatewayID) + "/desired" }

    /// The cloud topic the report is retained on.
    func reportedTopic(_ gatewayID: String) -> String { settings.prefix(gatewayID: gatewayID) + "/reported" }

    /// The name of the running configuration in messages: `remote:VERSION`, or nil for the local file.
    var source: String? {
        plan.running.version == 0 ? nil : "remote:\(plan.running.version)"
    }

    /// The host service, resuming the machine of the plan.
    func makeHost(gatewayID: String, target: any RemoteConfigTarget) -> RemoteConfigHost {
        RemoteConfigHost(
            gatewayID: gatewayID, settings: plan.running.configuration.remoteConfig, localTree: localTree,
            files: files, machine: plan.machine, running: plan.running, target: target,
            uplinkEnabled: plan.running.configuration.uplink.enabled, logger: Logger(label: "wharf.remote_config"))
    }

    /// The daemon could not start, or its services failed, with the configuration of the plan;
    /// `current` is the host's machine once it runs (it may have confirmed the configuration since).
    /// A provisional configuration is rolled back (the record says so) and the daemon restarts with
    /// the last-known-good; otherwise nothing is done and the error stops the daemon.
    func failedStart(_ message: String, current: RemoteConfigMachine? = nil, logger: Logger) throws(StartupError) {
        var machine = current ?? plan.machine
        guard let provisional = machine.record.provisional, provisional.version == plan.running.version else { return }
        let clock = SystemClockReading()
        var actions = machine.handle(
            .applyFailed(
                version: provisional.version,
                errors: [ReportedError(path: "", message: "the daemon could not start with it: \(message)")]),
            now: clock.now, wallNow: clock.wall)
        while !actions.isEmpty {
            switch actions.removeFirst() {
            case .persist(let record, _):
                do { try files.writeRecord(record) } catch {
                    throw StartupError("remote configuration: \(error.description)", exitCode: 1)
                }
            case .rollBack:
                actions += machine.handle(.rolledBackLive, now: clock.now, wallNow: clock.wall)
            case .log(_, let line):
                logger.error("\(line)")
            default:
                break
            }
        }
        Daemon.restartProcess(logger: logger)
    }
}

/// The clocks the state machine takes, read once.
private struct SystemClockReading {
    let now = SystemClock().now()
    let wall = Int64(time(nil))
}

extension Daemon {
    /// Resumes remote configuration from its record under the data directory, or nil when
    /// `remote_config.enabled` is false.
    func startRemoteConfiguration() throws(StartupError) -> RemoteStart? {
        guard configuration.remoteConfig.enabled else { return nil }
        let files = RemoteConfigFiles(dataDirectory: configuration.storage.dataDirectory)
        do {
            let plan = try RemoteConfigStartup.plan(
                localTree: localTree, localConfiguration: configuration, settings: configuration.remoteConfig,
                files: files, logger: Logger(label: "wharf.remote_config"))
            return RemoteStart(
                plan: plan, files: files, settings: plan.running.configuration.remoteConfig, localTree: localTree)
        } catch {
            throw StartupError("remote configuration: \(error.description)", exitCode: 1)
        }
    }

    /// Restarts the daemon after its services stopped: under systemd, exits with 75 so that
    /// `Restart=on-failure` starts it again; otherwise re-executes itself with the same arguments.
    static func restartProcess(logger: Logger) -> Never {
        if getenv("INVOCATION_ID") != nil {
            exit(75)
        }
        // The new image inherits the signal mask and ignored signals: give it a clean slate.
        var empty = sigset_t()
        sigemptyset(&empty)
        pthread_sigmask(SIG_SETMASK, &empty, nil)
        for signal in [SIGHUP, SIGINT, SIGTERM, SIGPIPE] { Glibc.signal(signal, SIG_DFL) }
        var arguments = CommandLine.arguments.map { strdup($0) }
        arguments.append(nil)
        execv("/proc/self/exe", &arguments)
        logger.critical("cannot re-execute wharfd: \(String(cString: strerror(errno)))")
        exit(75)
    }
}
