import Logging
import Synchronization
import Testing
import WharfConfig

@testable import AdminAPI

/// `GET /` and `/ui/...`: the embedded page with its headers, 304 on a known tag, 404 for
/// anything else under `/ui/`.
@Suite struct PageRoutesTests {
    @Test func rootServesTheHTMLWithItsSecurityHeaders() throws {
        let reply = AdminRoutes.page("/")
        #expect(reply.status == 200)
        #expect(reply.header("content-type") == "text/html; charset=utf-8")
        #expect(reply.body == PageAsset.byName["index.html"]?.body)
        #expect(reply.header("Cache-Control") == "no-cache")
        #expect(reply.header("ETag") == PageAsset.byName["index.html"]?.etag)
        let policy = try #require(reply.header("Content-Security-Policy"))
        #expect(policy.hasPrefix("default-src 'self'"))
        #expect(!policy.contains("unsafe"))
        #expect(reply.header("X-Content-Type-Options") == "nosniff")
        #expect(reply.header("X-Frame-Options") == "DENY")
    }

    @Test func assetsCarryTheirContentTypes() {
        for asset in PageAsset.all {
            let reply = AdminRoutes.page("/ui/\(asset.name)")
            #expect(reply.status == 200)
            #expect(reply.header("Content-Type") == asset.contentType)
            #expect(reply.body == asset.body)
            #expect(reply.header("Content-Security-Policy") == AdminRoutes.pageSecurityPolicy)
        }
        #expect(AdminRoutes.page("/ui/main.js").header("Content-Type") == "text/javascript; charset=utf-8")
    }

    @Test(arguments: [
        "/ui/", "/ui/nothing.js", "/ui/../Package.swift", "/ui/..%2fPackage.swift", "/ui/%2e%2e/Package.swift",
        "/ui//main.js", "/ui/./main.js", "/ui/main.js/", "/ui/MAIN.JS", "/ui/main.js%00", "/ui/../../etc/passwd",
        "/ui/web/main.js", "/index.html", "/main.js", "//ui/main.js",
    ])
    func unknownNamesAndTraversalAnswer404(path: String) {
        let reply = AdminRoutes.page(path)
        #expect(reply.status == 404)
        #expect(reply.body == Array("not found\n".utf8))
        #expect(reply.header("X-Content-Type-Options") == "nosniff")
    }

    @Test func aKnownTagAnswers304() throws {
        let etag = try #require(PageAsset.byName["style.css"]?.etag)
        for header in [etag, "W/\(etag)", "\"other\", \(etag)", "*"] {
            let reply = AdminRoutes.page("/ui/style.css", ifNoneMatch: header)
            #expect(reply.status == 304, "If-None-Match: \(header)")
            #expect(reply.body.isEmpty)
            #expect(reply.header("ETag") == etag)
        }
        #expect(AdminRoutes.page("/ui/style.css", ifNoneMatch: "\"other\"").status == 200)
        #expect(AdminRoutes.page("/ui/style.css", ifNoneMatch: "").status == 200)
    }

    @Test func pagePaths() {
        #expect(AdminRoutes.isPagePath("/") && AdminRoutes.isPagePath("/ui/main.js") && AdminRoutes.isPagePath("/ui/"))
        #expect(!AdminRoutes.isPagePath("/api/v1/status") && !AdminRoutes.isPagePath("/healthz"))
        #expect(!AdminRoutes.isPagePath("/ui") && !AdminRoutes.isPagePath("/uix/main.js"))
    }

    /// Through a real listener: the page beside the API, its methods and revalidation.
    @Test func servesThePageOverHTTP() async throws {
        let port = freePort()
        let bound = Mutex<Bool>(false)
        let server = AdminServer(
            routes: AdminRoutes(provider: FakeProvider(), registry: testRegistry),
            configuration: AdminConfig(port: port),
            logger: Logger(label: "test.admin"),
            onBound: { _ in bound.withLock { $0 = true } }
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            for _ in 0..<200 where !bound.withLock({ $0 }) {
                try await Task.sleep(for: .milliseconds(10))
            }
            let index = try #require(await httpGet(port: port, path: "/"))
            #expect(index.hasPrefix("HTTP/1.1 200"))
            let lower = index.lowercased()
            #expect(lower.contains("content-type: text/html; charset=utf-8\r\n"))
            #expect(lower.contains("content-security-policy: default-src 'self'"))
            #expect(lower.contains("x-content-type-options: nosniff\r\n"))
            #expect(lower.contains("x-frame-options: deny\r\n"))
            #expect(lower.contains("cache-control: no-cache\r\n"))
            #expect(index.contains("<!doctype html>"))

            let script = try #require(await httpGet(port: port, path: "/ui/main.js"))
            #expect(script.hasPrefix("HTTP/1.1 200"))
            #expect(script.lowercased().contains("content-type: text/javascript; charset=utf-8\r\n"))

            let etag = try #require(PageAsset.byName["main.js"]?.etag)
            let revalidated = try #require(
                blockingRawExchange(
                    port: port,
                    request: Array(
                        "GET /ui/main.js HTTP/1.1\r\nHost: 127.0.0.1\r\nIf-None-Match: \(etag)\r\nConnection: close\r\n\r\n"
                            .utf8))?.text)
            #expect(revalidated.hasPrefix("HTTP/1.1 304"))
            #expect(revalidated.hasSuffix("\r\n\r\n"))

            let head = try #require(await httpGet(port: port, path: "/", method: "HEAD"))
            #expect(head.hasPrefix("HTTP/1.1 200") && head.hasSuffix("\r\n\r\n"))
            let posted = try #require(await httpGet(port: port, path: "/", method: "POST"))
            #expect(posted.hasPrefix("HTTP/1.1 405") && posted.lowercased().contains("allow: get, head"))
            for path in ["/ui/nothing.js", "/ui/../Package.swift", "/ui/%2e%2e/Package.swift", "/ui/"] {
                let missing = try #require(await httpGet(port: port, path: path))
                #expect(missing.hasPrefix("HTTP/1.1 404"), "\(path)")
            }
            // The API beside it is unchanged.
            let status = try #require(await httpGet(port: port, path: "/api/v1/status"))
            #expect(status.hasPrefix("HTTP/1.1 200"))
            group.cancelAll()
        }
    }
}
