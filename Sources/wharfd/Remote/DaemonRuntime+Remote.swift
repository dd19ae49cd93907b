import AdminAPI
import RemoteConfigHost
import RemoteConfigState

/// Remote configuration in the admin API: the status entry, the sources, and documents applied on site.
extension DaemonRuntime {
    func configurationSources() async -> [String: String] {
        remoteConfig?.snapshot().sources ?? [:]
    }

    func applyRemoteConfig(_ document: [UInt8]) async -> RemoteConfigApplyOutcome {
        guard let host = remoteConfig else { return .notEnabled }
        let outcome = await host.applyLocally(document)
        return RemoteConfigApplyOutcome(
            result: outcome.result, version: outcome.version, errors: outcome.errors.map(Self.status),
            message: outcome.message)
    }

    /// The `remote_config` entry of the status document; nil when remote configuration is off.
    func remoteConfigStatus() -> RemoteConfigStatus? {
        guard let host = remoteConfig else { return nil }
        let snapshot = host.snapshot()
        let report = snapshot.report
        func version(_ value: UInt64) -> UInt64? { value == 0 ? nil : value }
        return RemoteConfigStatus(
            enabled: true,
            topicPrefix: host.topicPrefix,
            desiredVersion: version(report.desiredVersion),
            runningVersion: version(report.runningVersion),
            lastKnownGoodVersion: version(report.lastKnownGoodVersion),
            provisional: report.provisional,
            lastAttempt: report.lastAttempt.map { attempt in
                RemoteConfigAttemptStatus(
                    version: attempt.version, result: attempt.result.rawValue, sections: attempt.sections,
                    errors: attempt.errors.map(Self.status), startedAt: attempt.startedAt,
                    finishedAt: attempt.finishedAt)
            },
            confirmationSecondsLeft: snapshot.confirmationSecondsLeft,
            effectiveConfigHash: snapshot.effectiveConfigHash,
            updatedAt: report.updatedAt,
            sources: snapshot.sources)
    }

    private static func status(_ error: ReportedError) -> RemoteConfigErrorStatus {
        RemoteConfigErrorStatus(path: error.path, message: error.message)
    }
}
