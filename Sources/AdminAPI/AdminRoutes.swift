public import Prometheus

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The admin API's answers, independent of the HTTP server so they can be tested alone.
public struct AdminRoutes: Sendable {
    /// The URL path prefix of the versioned JSON endpoints.
    public static let apiPrefix = "/api/v1"
    /// Every path served to GET, for the 404 page.
    public static let paths = [
        "/healthz", "/metrics", "\(apiPrefix)/status", "\(apiPrefix)/config", configSourcesPath, deadLettersPath,
        logsPath, historyPath,
    ]
    /// Where each part of the configuration came from (`GET`).
    public static let configSourcesPath = "\(apiPrefix)/config/sources"
    /// The action that takes a signed remote configuration document (`POST`, the document as body).
    public static let remoteConfigPath = "\(apiPrefix)/remote-config"
    /// The largest remote configuration document taken by default: 1 MiB, far above any real
    /// configuration, and little memory for a request that is read whole before it is checked.
    public static let defaultMaxRemoteConfigBytes = 1_048_576

    /// One answer: status code, content type and body.
    public struct Reply: Sendable, Equatable {
        /// The HTTP status code.
        public var status: Int
        /// The `Content-Type` header.
        public var contentType: String
        /// The body.
        public var body: String
    }

    let provider: any AdminStatusProvider
    let registry: PrometheusCollectorRegistry
    /// The largest body of `POST /api/v1/remote-config`.
    public let maxRemoteConfigBytes: Int
    /// The last warning-or-worse log lines (`GET /api/v1/logs`); none kept when `nil`.
    public let logs: LogRing?
    /// The last hour of samples (`GET /api/v1/history`); none when `nil`.
    public let history: History?

    /// Creates the routes over a status provider and the registry the metrics backend writes to;
    /// `maxRemoteConfigBytes` bounds the documents taken by `POST /api/v1/remote-config`; `logs`
    /// serves `GET /api/v1/logs`, `history` `GET /api/v1/history`.
    public init(
        provider: any AdminStatusProvider, registry: PrometheusCollectorRegistry,
        maxRemoteConfigBytes: Int = AdminRoutes.defaultMaxRemoteConfigBytes, logs: LogRing? = nil,
        history: History? = nil
    ) {
        self.provider = provider
        self.registry = registry
        self.maxRemoteConfigBytes = maxRemoteConfigBytes
        self.logs = logs
        self.history = history
    }

    /// Whether `path` is an action served to POST (`/api/v1/plugins/NAME/restart`,
    /// `/api/v1/remote-config`, `/api/v1/queue/dead-letters/clear`).
    public static func isActionPath(_ path: String) -> Bool {
        path == remoteConfigPath || path == clearDeadLettersPath || pluginName(inRestartPath: path) != nil
    }

    /// The largest body the action at `path` reads, or nil when it reads none (its body is ignored).
    /// An action with a body needs a `Content-Length` header.
    public func bodyLimit(forActionPath path: String) -> Int? {
        path == Self.remoteConfigPath ? maxRemoteConfigBytes : nil
    }

    static func pluginName(inRestartPath path: String) -> String? {
        let prefix = "\(apiPrefix)/plugins/"
        let suffix = "/restart"
        guard path.hasPrefix(prefix), path.hasSuffix(suffix), path.count > prefix.count + suffix.count else {
            return nil
        }
        let name = path.dropFirst(prefix.count).dropLast(suffix.count)
        return name.contains("/") ? nil : String(name)
    }

    /// The answer to `POST path` with `body`: for a plugin's restart `202` when it was taken, `404`
    /// when there is nothing to take it on; for a remote configuration document the outcome as JSON
    /// (``RemoteConfigApplyOutcome/httpStatus``); for clearing the dead letters how many there were.
    public func post(_ path: String, body: [UInt8] = []) async -> Reply {
        if path == Self.remoteConfigPath { return await applyRemoteConfig(body) }
        if path == Self.clearDeadLettersPath { return await clearDeadLetters() }
        guard let name = Self.pluginName(inRestartPath: path) else {
            return Reply(status: 404, contentType: Self.text, body: "not found\n")
        }
        if let problem = await provider.restartPlugin(named: name) {
            return Reply(status: 404, contentType: Self.text, body: problem + "\n")
        }
        return Reply(status: 202, contentType: Self.text, body: "restarting plugin '\(name)'\n")
    }

    /// The answer to `GET path?query` (the query is read only by the paths that take one).
    public func get(_ path: String, query: String? = nil) async -> Reply {
        switch path {
        case "/healthz": await healthz()
        case "/metrics": await metrics()
        case "\(Self.apiPrefix)/status": await status()
        case "\(Self.apiPrefix)/config": await config()
        case Self.configSourcesPath: await configSources()
        case Self.deadLettersPath: await deadLetters(query: query)
        case Self.logsPath: logLines()
        case Self.historyPath: historySamples()
        default:
            Reply(status: 404, contentType: Self.text, body: "not found; try \(Self.paths.joined(separator: ", "))\n")
        }
    }

    /// `200 ok` when healthy, `503` with one problem per line otherwise.
    public func healthz() async -> Reply {
        let report = await provider.health()
        if report.isHealthy {
            return Reply(status: 200, contentType: Self.text, body: "ok\n")
        }
        return Reply(status: 503, contentType: Self.text, body: report.problems.joined(separator: "\n") + "\n")
    }

    /// Prometheus text exposition format 0.0.4.
    public func metrics() async -> Reply {
        await provider.refreshMetrics()
        return Reply(
            status: 200,
            contentType: "text/plain; version=0.0.4; charset=utf-8",
            body: registry.emitToString()
        )
    }

    /// The status document as JSON.
    public func status() async -> Reply {
        encoded(await provider.status(), what: "the status")
    }

    /// The effective configuration as JSON, secrets masked.
    public func config() async -> Reply {
        let configuration = await provider.effectiveConfiguration()
        return Reply(status: 200, contentType: Self.json, body: ConfigRedaction.json(configuration).rendered() + "\n")
    }

    /// Where each part of the effective configuration came from, as a JSON object (`{}` when remote
    /// configuration is not enabled).
    public func configSources() async -> Reply {
        encoded(await provider.configurationSources(), what: "the configuration's sources")
    }

    /// Hands a signed document to the daemon; the outcome as JSON, with its HTTP status.
    public func applyRemoteConfig(_ document: [UInt8]) async -> Reply {
        let outcome = await provider.applyRemoteConfig(document)
        var reply = encoded(outcome, what: "the outcome")
        if reply.status == 200 { reply.status = outcome.httpStatus }
        return reply
    }

    /// `value` as JSON with the status document's encoder; 500 if it cannot be encoded.
    func encoded(_ value: some Encodable, what: String) -> Reply {
        do {
            let data = try Self.encoder.encode(value)
            return Reply(status: 200, contentType: Self.json, body: String(decoding: data, as: UTF8.self) + "\n")
        } catch {
            return Reply(status: 500, contentType: Self.text, body: "cannot encode \(what): \(error)\n")
        }
    }

    static let text = "text/plain; charset=utf-8"
    static let json = "application/json"

    /// The encoder of the status document: snake_case keys, sorted, indented.
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }
}
