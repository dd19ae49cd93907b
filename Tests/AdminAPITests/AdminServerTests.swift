import Logging
import NIOCore
import Synchronization
import Testing
import WharfConfig

@testable import AdminAPI

@Suite struct AdminServerTests {
    /// The routes through a real listener on 127.0.0.1, with a plain-socket client.
    @Test func servesTheRoutesOverHTTP() async throws {
        let port = freePort()
        let bound = Mutex<SocketAddress?>(nil)
        let server = AdminServer(
            routes: AdminRoutes(provider: FakeProvider(), registry: testRegistry),
            configuration: AdminConfig(port: port),
            logger: Logger(label: "test.admin"),
            onBound: { address in bound.withLock { $0 = address } }
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            for _ in 0..<200 where bound.withLock({ $0 }) == nil {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(bound.withLock { $0?.port } == port)

            let health = try #require(await httpGet(port: port, path: "/healthz"))
            #expect(health.hasPrefix("HTTP/1.1 200"))
            #expect(health.hasSuffix("\r\n\r\nok\n"))
            #expect(health.lowercased().contains("content-type: text/plain"))

            let status = try #require(await httpGet(port: port, path: "/api/v1/status"))
            #expect(status.hasPrefix("HTTP/1.1 200"))
            #expect(status.contains("\"gateway_id\" : \"gw-test\""))

            let config = try #require(await httpGet(port: port, path: "/api/v1/config"))
            #expect(config.contains("\"admin\": {"))

            let metrics = try #require(await httpGet(port: port, path: "/metrics"))
            #expect(metrics.contains("wharf_test_queue_depth"))

            let missing = try #require(await httpGet(port: port, path: "/nothing"))
            #expect(missing.hasPrefix("HTTP/1.1 404"))
            let posted = try #require(await httpGet(port: port, path: "/healthz", method: "POST"))
            #expect(posted.hasPrefix("HTTP/1.1 405"))
            #expect(posted.lowercased().contains("allow: get, head"))
            // The one action: POST only, with its header, and the fake daemon runs no plugin of that name.
            let restart = try #require(
                await httpGet(
                    port: port, path: "/api/v1/plugins/line1/restart", method: "POST", headers: "X-Wharf-Action: 1\r\n")
            )
            #expect(restart.hasPrefix("HTTP/1.1 404") && restart.contains("no plugin named 'line1'"))
            let restartByGet = try #require(await httpGet(port: port, path: "/api/v1/plugins/line1/restart"))
            #expect(restartByGet.hasPrefix("HTTP/1.1 405") && restartByGet.lowercased().contains("allow: post"))
            // Every answer carries an IMF-fixdate Date header.
            #expect(health.contains(/\r\n[Dd]ate: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT\r\n/))
            group.cancelAll()
        }
    }
}

@Suite struct AdminServerLoopbackTests {
    /// Actions are served only on a listener this machine alone can reach.
    @Test func onlyLoopbackListenersTakeActions() {
        #expect(AdminServer.isLoopback("127.0.0.1") && AdminServer.isLoopback("127.1.2.3"))
        #expect(AdminServer.isLoopback("::1") && AdminServer.isLoopback("localhost"))
        #expect(!AdminServer.isLoopback("0.0.0.0") && !AdminServer.isLoopback("::"))
        #expect(!AdminServer.isLoopback("192.168.1.2"))
    }
}
