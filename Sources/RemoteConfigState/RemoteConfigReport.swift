import WharfCore

/// The reported state of remote configuration, retained on `wharf/{gateway}/config/reported` and
/// shown in `/api/v1/status`; published after every change and again after every reconnect.
public struct RemoteConfigReport: Sendable, Hashable {
    /// The highest desired version seen (0: none).
    public var desiredVersion: UInt64
    /// The version running (0: the local file alone).
    public var runningVersion: UInt64
    /// The last-known-good version (0: the local file alone).
    public var lastKnownGoodVersion: UInt64
    /// Whether the running configuration is provisional.
    public var provisional: Bool
    /// The last attempt, if any.
    public var lastAttempt: Attempt?
    /// When the state last changed (wall-clock seconds).
    public var updatedAt: Int64

    /// The report a record describes.
    public init(record: RemoteConfigRecord) {
        desiredVersion = record.desiredSeen
        runningVersion = record.runningVersion
        lastKnownGoodVersion = record.lastKnownGood
        provisional = record.provisional != nil
        lastAttempt = record.lastAttempt
        updatedAt = record.updatedAt
    }

    /// The JSON document to publish; `effectiveConfigHash` is the host's hash of the effective
    /// configuration running. Versions of 0 are written as `null`.
    /// `uplinkEndpoint` is the cloud broker the uplink is connected to (`host:port`), if it is.
    public func document(effectiveConfigHash: String, uplinkEndpoint: String? = nil) -> String {
        var json = "{\"desired_version\":" + Self.version(desiredVersion)
        json += ",\"running_version\":" + Self.version(runningVersion)
        json += ",\"last_known_good_version\":" + Self.version(lastKnownGoodVersion)
        json += ",\"provisional\":\(provisional)"
        json += ",\"last_attempt\":"
        if let attempt = lastAttempt {
            Self.append(attempt, to: &json)
        } else {
            json += "null"
        }
        json += ",\"effective_config_hash\":"
        JSONString.appendQuoted(effectiveConfigHash, to: &json)
        json += ",\"uplink_endpoint\":"
        if let uplinkEndpoint {
            JSONString.appendQuoted(uplinkEndpoint, to: &json)
        } else {
            json += "null"
        }
        json += ",\"updated_at\":\(updatedAt)}"
        return json
    }

    /// A version, or `null` for 0.
    private static func version(_ value: UInt64) -> String { value == 0 ? "null" : String(value) }

    /// `attempt` as a JSON object.
    private static func append(_ attempt: Attempt, to json: inout String) {
        json += "{\"version\":\(attempt.version),\"result\":"
        JSONString.appendQuoted(attempt.result.rawValue, to: &json)
        json += ",\"sections\":["
        for (index, section) in attempt.sections.enumerated() {
            if index > 0 { json += "," }
            JSONString.appendQuoted(section, to: &json)
        }
        json += "],\"errors\":["
        for (index, error) in attempt.errors.enumerated() {
            if index > 0 { json += "," }
            json += "{\"path\":"
            JSONString.appendQuoted(error.path, to: &json)
            json += ",\"message\":"
            JSONString.appendQuoted(error.message, to: &json)
            json += "}"
        }
        json += "],\"started_at\":\(attempt.startedAt),\"finished_at\":"
        json += attempt.finishedAt.map { String($0) } ?? "null"
        json += "}"
    }
}
