import Synchronization
import Testing
import WharfConfig

@testable import AdminAPI

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A provider that runs remote configuration: it records the documents it is handed and answers with
/// a fixed outcome.
final class RemoteConfigProvider: AdminStatusProvider {
    let inner = FakeProvider()
    let outcome: RemoteConfigApplyOutcome
    let received = Mutex<[[UInt8]]>([])
    let remote: RemoteConfigStatus?

    init(outcome: RemoteConfigApplyOutcome, remote: RemoteConfigStatus? = nil) {
        self.outcome = outcome
        self.remote = remote
    }

    func status() async -> GatewayStatus {
        var status = await inner.status()
        status.remoteConfig = remote
        return status
    }
    func health() async -> HealthReport { await inner.health() }
    func effectiveConfiguration() async -> WharfConfiguration { await inner.effectiveConfiguration() }
    func refreshMetrics() async {}
    func configurationSources() async -> [String: String] {
        ["adapters": "remote:7", "log": "local", "broker.max_connections": "remote:7"]
    }
    func applyRemoteConfig(_ document: [UInt8]) async -> RemoteConfigApplyOutcome {
        received.withLock { $0.append(document) }
        return outcome
    }
}

/// A status entry with every member set.
let sampleRemoteConfig = RemoteConfigStatus(
    enabled: true, topicPrefix: "wharf/gw-test/config", desiredVersion: 7, runningVersion: 7,
    lastKnownGoodVersion: nil, provisional: true,
    lastAttempt: RemoteConfigAttemptStatus(
        version: 7, result: "pending-confirmation", sections: ["adapters"],
        errors: [RemoteConfigErrorStatus(path: "config.adapters[0].port", message: "out of range")],
        startedAt: 1_767_225_600),
    confirmationSecondsLeft: 212.5, effectiveConfigHash: "abc123", updatedAt: 1_767_225_601,
    sources: ["adapters": "remote:7", "broker.max_connections": "remote:7", "log": "local"])

@Suite struct RemoteConfigStatusTests {
    @Test func statusCarriesRemoteConfigInTheReportsSpelling() async throws {
        let provider = RemoteConfigProvider(outcome: .notEnabled, remote: sampleRemoteConfig)
        let reply = await AdminRoutes(provider: provider, registry: testRegistry).get("/api/v1/status")
        #expect(reply.status == 200)
        for key in [
            "\"remote_config\" : {", "\"topic_prefix\" : \"wharf\\/gw-test\\/config\"", "\"desired_version\" : 7",
            "\"last_known_good_version\" : null", "\"confirmation_seconds_left\" : 212.5",
            "\"effective_config_hash\" : \"abc123\"", "\"finished_at\" : null", "\"started_at\" : 1767225600",
            "\"broker.max_connections\" : \"remote:7\"", "\"path\" : \"config.adapters[0].port\"",
        ] {
            #expect(reply.body.contains(key), "missing \(key) in \(reply.body)")
        }
        // The document reads back as it was.
        struct Partial: Decodable { var remoteConfig: RemoteConfigStatus? }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let decoded = try decoder.decode(Partial.self, from: Data(reply.body.utf8))
        #expect(decoded.remoteConfig == sampleRemoteConfig)
    }

    @Test func statusLeavesRemoteConfigOutWhenNotEnabled() async {
        let reply = await AdminRoutes(provider: FakeProvider(), registry: testRegistry).get("/api/v1/status")
        #expect(reply.status == 200)
        #expect(!reply.body.contains("remote_config"))
    }

    @Test func configSourcesArePerPart() async throws {
        let provider = RemoteConfigProvider(outcome: .notEnabled)
        let reply = await AdminRoutes(provider: provider, registry: testRegistry).get("/api/v1/config/sources")
        #expect(reply.status == 200 && reply.contentType == "application/json")
        let sources = try JSONDecoder().decode([String: String].self, from: Data(reply.body.utf8))
        #expect(sources == ["adapters": "remote:7", "log": "local", "broker.max_connections": "remote:7"])
        // The configuration document itself is unchanged: no provenance mixed in.
        let config = await AdminRoutes(provider: provider, registry: testRegistry).get("/api/v1/config")
        #expect(!config.body.contains("remote:7"))
    }

    @Test func configSourcesAreEmptyWithoutRemoteConfiguration() async throws {
        let reply = await AdminRoutes(provider: FakeProvider(), registry: testRegistry).get("/api/v1/config/sources")
        #expect(reply.status == 200)
        #expect(try JSONDecoder().decode([String: String].self, from: Data(reply.body.utf8)).isEmpty)
    }
}

@Suite struct RemoteConfigApplyRouteTests {
    @Test func theActionPathTakesABodyOfBoundedSize() {
        let routes = AdminRoutes(provider: FakeProvider(), registry: testRegistry, maxRemoteConfigBytes: 100)
        #expect(AdminRoutes.isActionPath("/api/v1/remote-config"))
        #expect(!AdminRoutes.isActionPath("/api/v1/remote-config/x"))
        #expect(routes.bodyLimit(forActionPath: "/api/v1/remote-config") == 100)
        #expect(routes.bodyLimit(forActionPath: "/api/v1/plugins/line1/restart") == nil)
        #expect(
            AdminRoutes(provider: FakeProvider(), registry: testRegistry).bodyLimit(
                forActionPath: "/api/v1/remote-config") == 1_048_576)
    }

    @Test func withoutRemoteConfigurationTheAnswerIs503() async throws {
        let reply = await AdminRoutes(provider: FakeProvider(), registry: testRegistry)
            .post("/api/v1/remote-config", body: Array("{}".utf8))
        #expect(reply.status == 503)
        #expect(reply.contentType == "application/json")
        let outcome = try JSONDecoder().decode(RemoteConfigApplyOutcome.self, from: Data(reply.body.utf8))
        #expect(outcome.result == "unavailable" && outcome.message == "remote configuration is not enabled")
        #expect(reply.body.contains("\"version\" : null"))
    }

    @Test(arguments: [
        ("pending-confirmation", 200), ("applied", 200), ("rejected", 422), ("ignored", 409), ("unavailable", 503),
        ("something-new", 500),
    ])
    func eachResultHasItsStatus(result: String, status: Int) async throws {
        let outcome = RemoteConfigApplyOutcome(
            result: result, version: 7,
            errors: result == "rejected"
                ? [RemoteConfigErrorStatus(path: "config.adapters[0].port", message: "expected 1 to 65535")] : [],
            message: "the outcome")
        let provider = RemoteConfigProvider(outcome: outcome)
        let document = Array("{\"gateway\":\"gw-test\",\"version\":7}\n".utf8)
        let reply = await AdminRoutes(provider: provider, registry: testRegistry)
            .post("/api/v1/remote-config", body: document)
        #expect(reply.status == status)
        #expect(outcome.httpStatus == status)
        #expect(provider.received.withLock { $0 } == [document])
        let decoded = try JSONDecoder().decode(RemoteConfigApplyOutcome.self, from: Data(reply.body.utf8))
        #expect(decoded == outcome)
    }
}
