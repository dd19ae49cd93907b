public import Logging
public import RemoteConfig
public import RemoteConfigState
public import WharfConfig
import WharfCore
import WharfSupport

#if canImport(Glibc)
    import Glibc
#endif

/// What the daemon starts with: the record's verdict (the last-known-good, or the provisional
/// configuration whose countdown continues), decided before anything else starts.
public enum RemoteConfigStartup {
    /// The decision: the machine to hand to the host, and the configuration to run.
    public struct Plan: Sendable {
        /// The machine as resumed.
        public var machine: RemoteConfigMachine
        /// The configuration to start with.
        public var running: RunningConfiguration
    }

    /// Resumes from the record under `files` and chooses the configuration to start with. A
    /// provisional configuration that can no longer be used (its document lost, or invalid on the
    /// local file as it is now) is rolled back here. Fails only when the record cannot be written.
    public static func plan(
        localTree: ConfigNode, localConfiguration: WharfConfiguration, settings: RemoteConfigConfig,
        files: RemoteConfigFiles, logger: Logger
    ) throws(StateFile.Failure) -> Plan {
        try files.prepare()
        var record: RemoteConfigRecord?
        do {
            record = try files.readRecord()
        } catch {
            // A record that fails its checksum was not written by Wharf: keep it for inspection and
            // start from the local file, so the gateway stays reachable.
            logger.error(
                "the remote configuration record is unreadable; starting with the local file alone",
                metadata: ["remote_config.error": "\(error.description)"])
            _ = rename(files.recordPath, files.recordPath + ".unreadable")
        }
        let policy = ConfirmationPolicy(
            confirmWithin: settings.confirmWithin, confirmAfter: settings.confirmAfter,
            maxProvisionalStarts: settings.maxProvisionalStarts, startWindow: settings.startWindow)
        let clock = SystemClock()
        var (machine, actions) = RemoteConfigMachine.resume(
            record: record, policy: policy, now: clock.now(), wallNow: Int64(time(nil)))
        var running = RunningConfiguration.local(tree: localTree, configuration: localConfiguration)
        while !actions.isEmpty {
            let action = actions.removeFirst()
            switch action {
            case .persist(let record, _):
                try files.writeRecord(record)
            case .start(.lastKnownGood(let version)):
                running = configuration(
                    version: version, files: files, localTree: localTree, settings: settings, logger: logger)
            case .start(.provisional(let candidate)):
                switch RunningConfiguration.staged(
                    version: candidate.version, files: files, local: localTree,
                    settings: RemoteConfigSettings(settings))
                {
                case .success(let provisional):
                    running = provisional
                case .failure(let problems):
                    actions += machine.handle(
                        .applyFailed(version: candidate.version, errors: problems.errors), now: clock.now(),
                        wallNow: Int64(time(nil)))
                }
            case .rollBack(let version, _):
                running = configuration(
                    version: version, files: files, localTree: localTree, settings: settings, logger: logger)
                actions += machine.handle(.rolledBackLive, now: clock.now(), wallNow: Int64(time(nil)))
            case .removeStaged(let keeping):
                do { try files.removeStaged(keeping: keeping) } catch {
                    logger.warning("cannot remove an old staged configuration: \(error.description)")
                }
            case .log(let level, let message):
                switch level {
                case .info: logger.info("\(message)")
                case .notice: logger.notice("\(message)")
                case .warning: logger.warning("\(message)")
                }
            case .writeStaged, .applyLive, .restartDaemon, .publishReport, .reconsiderDesired:
                // Not answered at start: the report is published once the uplink connects.
                break
            }
        }
        return Plan(machine: machine, running: running)
    }

    /// The configuration of remote `version` on the local file (the local file alone for 0, or
    /// when the version's document cannot be used any more, which is logged).
    public static func configuration(
        version: UInt64, files: RemoteConfigFiles, localTree: ConfigNode, settings: RemoteConfigConfig, logger: Logger
    ) -> RunningConfiguration {
        let local: RunningConfiguration
        switch ConfigLoader.load(tree: localTree) {
        case .success(let configuration): local = .local(tree: localTree, configuration: configuration)
        case .failure: local = .local(tree: localTree, configuration: .default)
        }
        guard version > 0 else { return local }
        switch RunningConfiguration.staged(
            version: version, files: files, local: localTree, settings: RemoteConfigSettings(settings))
        {
        case .success(let running):
            return running
        case .failure(let problems):
            logger.error(
                "the last-known-good remote configuration version \(version) cannot be used; running the local file alone",
                metadata: ["remote_config.errors": "\(problems.description)"])
            return local
        }
    }
}
