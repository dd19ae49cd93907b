import RemoteConfig

/// Remote configuration's state for people: `wharfctl config status` in full, and the one line of
/// `wharfctl status`.
enum RemoteConfigStatusText {
    /// Every fact of `view`, one aligned row each.
    static func text(_ view: RemoteConfigReportView) -> String {
        var rows: [(String, String)] = []
        if let prefix = view.topicPrefix {
            rows.append(("topics", "\(prefix)/desired, \(prefix)/reported"))
        }
        rows.append(("running", running(view)))
        rows.append(("last-known-good", version(view.lastKnownGoodVersion)))
        rows.append(("desired", view.desiredVersion.map { "version \($0)" } ?? "none seen"))
        if let attempt = view.lastAttempt {
            rows.append(("last attempt", attemptLine(attempt)))
            if let started = attempt.startedAt {
                rows.append(
                    (
                        "  at",
                        UTCTimestamp.format(started)
                            + (attempt.finishedAt.map { ", finished " + UTCTimestamp.format($0) } ?? "")
                    ))
            }
            for problem in attempt.errors { rows.append(("  error", problem.line)) }
        } else {
            rows.append(("last attempt", "none"))
        }
        if let hash = view.effectiveConfigHash { rows.append(("config hash", hash)) }
        for (part, source) in (view.sources ?? [:]).sorted(by: { $0.key < $1.key }) {
            rows.append(("source", "\(part): \(source)"))
        }
        if let updated = view.updatedAt { rows.append(("updated", UTCTimestamp.format(updated))) }
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0 + ":" + String(repeating: " ", count: width - $0.0.count + 1) + $0.1 }
            .joined(separator: "\n")
    }

    /// `wharfctl status`'s line: the running version, whether provisional, the last result.
    static func summary(_ view: RemoteConfigReportView) -> String {
        var text = running(view)
        if let attempt = view.lastAttempt {
            text += "; last attempt version \(attempt.version): \(attempt.result)"
        }
        return text
    }

    /// `version 7, provisional (212s left to confirm)`, `version 6`, `local file only`.
    static func running(_ view: RemoteConfigReportView) -> String {
        var text = version(view.runningVersion)
        if view.provisional {
            text += ", provisional"
            if let left = view.confirmationSecondsLeft {
                text += " (\(StatusReport.duration(max(0, left))) left to confirm)"
            }
        }
        return text
    }

    /// `version 7: rejected, sections adapters, log`.
    static func attemptLine(_ attempt: RemoteConfigReportView.Attempt) -> String {
        "version \(attempt.version): \(attempt.result)"
            + (attempt.sections.isEmpty ? "" : ", sections " + attempt.sections.joined(separator: ", "))
    }

    private static func version(_ value: UInt64?) -> String {
        value.map { "version \($0)" } ?? "local file only"
    }
}
