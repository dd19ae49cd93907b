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
    /// Every path served, for the 404 page.
    public static let paths = ["/healthz", "/metrics", "\(apiPrefix)/status", "\(apiPrefix)/config"]

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

    /// Creates the routes over a status provider and the registry the metrics backend writes to.
    public init(provider: any AdminStatusProvider, registry: PrometheusCollectorRegistry) {
        self.provider = provider
        self.registry = registry
    }

    /// Whether `path` is an action served to POST (`/api/v1/plugins/NAME/restart`).
    public static func isActionPath(_ path: String) -> Bool {
        pluginName(inRestartPath: path) != nil
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

    /// The answer to `POST path`: `202` when the action was taken, `404` when there is nothing
    /// to take it on.
    public func post(_ path: String) async -> Reply {
        guard let name = Self.pluginName(inRestartPath: path) else {
            return Reply(status: 404, contentType: Self.text, body: "not found\n")
        }
        if let problem = await provider.restartPlugin(named: name) {
            return Reply(status: 404, contentType: Self.text, body: problem + "\n")
        }
        return Reply(status: 202, contentType: Self.text, body: "restarting plugin '\(name)'\n")
    }

    /// The answer to `GET path`.
    public func get(_ path: String) async -> Reply {
        switch path {
        case "/healthz": await healthz()
        case "/metrics": await metrics()
        case "\(Self.apiPrefix)/status": await status()
        case "\(Self.apiPrefix)/config": await config()
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
        let document = await provider.status()
        do {
            let data = try Self.encoder.encode(document)
            return Reply(status: 200, contentType: Self.json, body: String(decoding: data, as: UTF8.self) + "\n")
        } catch {
            return Reply(status: 500, contentType: Self.text, body: "cannot encode the status: \(error)\n")
        }
    }

    /// The effective configuration as JSON, secrets masked.
    public func config() async -> Reply {
        let configuration = await provider.effectiveConfiguration()
        return Reply(status: 200, contentType: Self.json, body: ConfigRedaction.json(configuration).rendered() + "\n")
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
