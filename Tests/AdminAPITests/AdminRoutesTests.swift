import AdminAPI
import Synchronization
import Testing
import WharfConfig

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

@Suite struct AdminRoutesTests {
    @Test func healthzSaysOkWhenHealthy() async {
        let routes = AdminRoutes(provider: FakeProvider(), registry: testRegistry)
        let reply = await routes.get("/healthz")
        #expect(reply.status == 200)
        #expect(reply.body == "ok\n")
    }

    @Test func healthzNamesEveryProblemWhenUnhealthy() async {
        let provider = FakeProvider(health: HealthReport(problems: ["store writer silent", "listeners not bound"]))
        let reply = await AdminRoutes(provider: provider, registry: testRegistry).get("/healthz")
        #expect(reply.status == 503)
        #expect(reply.body == "store writer silent\nlisteners not bound\n")
    }

    @Test func statusIsSnakeCaseJSON() async throws {
        let reply = await AdminRoutes(provider: FakeProvider(), registry: testRegistry).get("/api/v1/status")
        #expect(reply.status == 200)
        #expect(reply.contentType == "application/json")
        for key in [
            "\"gateway_id\" : \"gw-test\"", "\"uptime_seconds\"", "\"clients_connected\" : 3",
            "\"oldest_age_seconds\"", "\"health\" : \"degraded\"", "\"state\" : \"connected\"",
        ] {
            #expect(reply.body.contains(key), "missing \(key) in \(reply.body)")
        }
        struct Partial: Decodable {
            var version: String
            var gatewayId: String
            var queue: QueueStatus
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let partial = try decoder.decode(Partial.self, from: Data(reply.body.utf8))
        #expect(partial.version == "1.2.3")
        #expect(partial.gatewayId == "gw-test")
        #expect(partial.queue.dropped == ["expired": 2])
    }

    @Test func configIsRedacted() async {
        var configuration = WharfConfiguration.default
        configuration.uplink.password = "hunter2"
        configuration.uplink.username = "gateway"
        let reply = await AdminRoutes(provider: FakeProvider(configuration: configuration), registry: testRegistry)
            .get("/api/v1/config")
        #expect(reply.status == 200)
        #expect(!reply.body.contains("hunter2"))
        #expect(reply.body.contains("\"password\": \"***\""))
        #expect(reply.body.contains("\"username\": \"gateway\""))
    }

    @Test func metricsRefreshesThenRendersPrometheusText() async {
        let provider = FakeProvider()
        let routes = AdminRoutes(provider: provider, registry: testRegistry)
        _ = await routes.get("/metrics")
        let reply = await routes.get("/metrics")
        #expect(reply.status == 200)
        #expect(reply.contentType.hasPrefix("text/plain; version=0.0.4"))
        #expect(reply.body.contains("# TYPE wharf_test_queue_depth gauge"))
        #expect(reply.body.contains("wharf_test_queue_depth 10"))
        // Totals 5 then 10: the counter shows the latest total, not the sum of totals.
        #expect(reply.body.contains("wharf_test_messages_total 10"))
        #expect(reply.body.contains("wharf_test_dropped_total{reason=\"expired\"} 2"))
    }

    @Test func unknownPathsAre404() async {
        let reply = await AdminRoutes(provider: FakeProvider(), registry: testRegistry).get("/admin")
        #expect(reply.status == 404)
        #expect(reply.body.contains("/healthz"))
    }
}

@Suite struct AdminActionTests {
    /// A provider that restarts one plugin and records it.
    final class RestartingProvider: AdminStatusProvider {
        let restarted = Mutex<[String]>([])
        let inner = FakeProvider()
        func status() async -> GatewayStatus { await inner.status() }
        func health() async -> HealthReport { await inner.health() }
        func effectiveConfiguration() async -> WharfConfiguration { await inner.effectiveConfiguration() }
        func refreshMetrics() async {}
        func restartPlugin(named name: String) async -> String? {
            guard name == "line1" else { return "no adapter named '\(name)' is running" }
            restarted.withLock { $0.append(name) }
            return nil
        }
    }

    @Test func restartPathsAreRecognised() {
        #expect(AdminRoutes.isActionPath("/api/v1/plugins/line1/restart"))
        #expect(!AdminRoutes.isActionPath("/api/v1/plugins//restart"))
        #expect(!AdminRoutes.isActionPath("/api/v1/plugins/a/b/restart"))
        #expect(!AdminRoutes.isActionPath("/api/v1/status"))
    }

    @Test func postRestartsThePluginOrSaysWhyNot() async {
        let provider = RestartingProvider()
        let routes = AdminRoutes(provider: provider, registry: testRegistry)
        let done = await routes.post("/api/v1/plugins/line1/restart")
        #expect(done.status == 202)
        #expect(provider.restarted.withLock { $0 } == ["line1"])
        let missing = await routes.post("/api/v1/plugins/other/restart")
        #expect(missing.status == 404 && missing.body.contains("other"))
    }
}
