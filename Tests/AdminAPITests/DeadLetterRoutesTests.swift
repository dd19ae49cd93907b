import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore
import Synchronization
import Testing
import WharfConfig

@testable import AdminAPI

/// A provider with a forward queue: a dead-letter table in memory (oldest first), the limits it
/// was asked for, and a store that can be made to fail.
final class DeadLetterProvider: AdminStatusProvider {
    let inner = FakeProvider()
    let table: Mutex<[DeadLetterEntry]>
    let limits = Mutex<[Int]>([])
    let failing: Bool

    init(_ entries: [DeadLetterEntry], failing: Bool = false) {
        table = Mutex(entries)
        self.failing = failing
    }

    func status() async -> GatewayStatus { await inner.status() }
    func health() async -> HealthReport { await inner.health() }
    func effectiveConfiguration() async -> WharfConfiguration { await inner.effectiveConfiguration() }
    func refreshMetrics() async {}

    func deadLetters(limit: Int) async throws(DeadLetterAccessError) -> DeadLetterReport {
        if failing { throw .storeFailed("disk I/O error") }
        limits.withLock { $0.append(limit) }
        return table.withLock { rows in
            DeadLetterReport(
                count: rows.count, bytes: rows.map(\.payloadBytes).reduce(0, +),
                deadLetters: Array(rows.reversed().prefix(limit)))
        }
    }

    func clearDeadLetters() async throws(DeadLetterAccessError) -> Int {
        if failing { throw .storeFailed("disk I/O error") }
        return table.withLock { rows in
            defer { rows.removeAll() }
            return rows.count
        }
    }
}

/// The dead-letter table through the admin API: listing, the limit, clearing, and no queue.
@Suite struct DeadLetterRoutesTests {
    static func entry(_ id: Int64, payload: [UInt8], reasonString: String? = nil) -> DeadLetterEntry {
        DeadLetterEntry(
            id: id, sequence: 100 + id, topic: "site/gw1/devices/secret", reasonCode: 0x87, reason: "not-authorized",
            reasonString: reasonString, rule: "devices", qos: 1, retain: false, payload: payload,
            enqueuedAtMilliseconds: 1_796_653_799_000, deadAtMilliseconds: 1_796_653_800_123 + id)
    }

    static let entries = [
        entry(1, payload: Array("secret-0".utf8), reasonString: "no access"),
        entry(2, payload: [0xFF, 0x00, 0xC3]),
        entry(3, payload: []),
    ]

    static func routes(_ provider: any AdminStatusProvider) -> AdminRoutes {
        AdminRoutes(provider: provider, registry: testRegistry)
    }

    static func object(_ reply: AdminRoutes.Reply) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any])
    }

    @Test func theNewestFirstWithTheTotalsAndEveryKeyOfAnEntry() async throws {
        let provider = DeadLetterProvider(Self.entries)
        let reply = await Self.routes(provider).get("/api/v1/queue/dead-letters")
        #expect(reply.status == 200 && reply.contentType == "application/json")
        let document = try Self.object(reply)
        #expect(document["count"] as? Int == 3 && document["bytes"] as? Int == 11)
        let letters = try #require(document["dead_letters"] as? [[String: Any]])
        #expect(letters.map { $0["id"] as? Int } == [3, 2, 1])
        let text = letters[2]
        #expect(text["topic"] as? String == "site/gw1/devices/secret")
        #expect(text["reason_code"] as? Int == 0x87 && text["reason"] as? String == "not-authorized")
        #expect(text["reason_string"] as? String == "no access" && text["rule"] as? String == "devices")
        #expect(text["payload_bytes"] as? Int == 8 && text["payload"] as? String == "secret-0")
        #expect(text["payload_base64"] as? String == "c2VjcmV0LTA=")
        #expect(text["dead_at"] as? String == "2026-12-07T14:30:00.124Z")
        #expect(text["enqueued_at"] as? String == "2026-12-07T14:29:59.000Z")
        #expect(text["sequence"] as? Int == 101 && text["qos"] as? Int == 1 && text["retain"] as? Bool == false)
        // A payload that is not UTF-8 is null as text, whole in base64; an absent Reason String is null.
        let binary = letters[1]
        #expect(binary["payload"] is NSNull && binary["payload_base64"] as? String == "/wDD")
        #expect(binary["reason_string"] is NSNull && binary["payload_bytes"] as? Int == 3)
        #expect(Set(binary.keys) == Set(text.keys))
        #expect(letters[0]["payload"] as? String == "" && letters[0]["payload_base64"] as? String == "")
    }

    @Test func theLimitIs100ByDefaultAndAtMost10000() async throws {
        let provider = DeadLetterProvider(Self.entries)
        let routes = Self.routes(provider)
        for (query, limit) in [
            (nil, 100), ("", 100), ("limit=2", 2), ("limit=0", 0), ("limit=10000", 10_000), ("x=1&limit=1", 1),
        ] as [(String?, Int)] {
            let reply = await routes.get("/api/v1/queue/dead-letters", query: query)
            #expect(reply.status == 200, "\(query ?? "nil")")
            #expect(provider.limits.withLock { $0.last } == limit)
        }
        let two = try Self.object(await routes.get("/api/v1/queue/dead-letters", query: "limit=2"))
        #expect((two["dead_letters"] as? [Any])?.count == 2 && two["count"] as? Int == 3)
        let asked = provider.limits.withLock { $0.count }
        for query in ["limit=10001", "limit=-1", "limit=abc", "limit=", "limit", "limit=1.5"] {
            let reply = await routes.get("/api/v1/queue/dead-letters", query: query)
            #expect(reply.status == 400, "\(query)")
            #expect(reply.body.contains("from 0 to 10000"))
        }
        #expect(provider.limits.withLock { $0.count } == asked)
    }

    @Test func clearingAnswersHowManyAndEmptiesTheTable() async throws {
        let provider = DeadLetterProvider(Self.entries)
        let routes = Self.routes(provider)
        #expect(AdminRoutes.isActionPath("/api/v1/queue/dead-letters/clear"))
        #expect(!AdminRoutes.isActionPath("/api/v1/queue/dead-letters"))
        #expect(routes.bodyLimit(forActionPath: "/api/v1/queue/dead-letters/clear") == nil)
        let cleared = await routes.post("/api/v1/queue/dead-letters/clear")
        #expect(cleared.status == 200 && cleared.contentType == "application/json")
        #expect(try Self.object(cleared)["cleared"] as? Int == 3)
        let after = try Self.object(await routes.get("/api/v1/queue/dead-letters"))
        #expect(after["count"] as? Int == 0 && (after["dead_letters"] as? [Any])?.isEmpty == true)
        #expect(try Self.object(await routes.post("/api/v1/queue/dead-letters/clear"))["cleared"] as? Int == 0)
    }

    @Test func aDaemonWithoutAnUplinkHasNoTable() async {
        let routes = Self.routes(FakeProvider())
        for reply in [
            await routes.get("/api/v1/queue/dead-letters"), await routes.post("/api/v1/queue/dead-letters/clear"),
        ] {
            #expect(reply.status == 404)
            #expect(reply.body.contains("the uplink is not enabled"))
        }
    }

    @Test func aStoreFailureIs500() async {
        let routes = Self.routes(DeadLetterProvider(Self.entries, failing: true))
        for reply in [
            await routes.get("/api/v1/queue/dead-letters"), await routes.post("/api/v1/queue/dead-letters/clear"),
        ] {
            #expect(reply.status == 500 && reply.body.contains("disk I/O error"))
        }
    }
}

/// The dead-letter endpoints through the HTTP layer: the query reaches the route, and clearing is an
/// action, served to POST on a loopback listener only.
@Suite struct DeadLetterServerTests {
    static func request(_ method: HTTPRequest.Method, _ path: String) -> Request {
        let head = HTTPRequest(method: method, scheme: "http", authority: "127.0.0.1", path: path)
        return Request(head: head, body: RequestBody(buffer: ByteBuffer()))
    }

    static func routes(_ provider: DeadLetterProvider) -> AdminRoutes {
        AdminRoutes(provider: provider, registry: testRegistry)
    }

    @Test func theQueryReachesTheRoute() async {
        let provider = DeadLetterProvider(DeadLetterRoutesTests.entries)
        let response = await AdminServer.respond(
            to: Self.request(.get, "/api/v1/queue/dead-letters?limit=3"), routes: Self.routes(provider))
        #expect(response.status.code == 200)
        #expect(provider.limits.withLock { $0 } == [3])
        let bad = await AdminServer.respond(
            to: Self.request(.get, "/api/v1/queue/dead-letters?limit=20000"), routes: Self.routes(provider))
        #expect(bad.status.code == 400)
    }

    @Test func clearingIsRefusedWhenTheAdminAPIIsNotOnLoopback() async {
        let provider = DeadLetterProvider(DeadLetterRoutesTests.entries)
        let response = await AdminServer.respond(
            to: Self.request(.post, "/api/v1/queue/dead-letters/clear"), routes: Self.routes(provider),
            actionsAllowed: false)
        #expect(response.status.code == 403)
        #expect(provider.table.withLock { $0.count } == 3)
        // Reading is not an action: it is served on any listener.
        let read = await AdminServer.respond(
            to: Self.request(.get, "/api/v1/queue/dead-letters"), routes: Self.routes(provider),
            actionsAllowed: false)
        #expect(read.status.code == 200)
    }

    @Test func clearingIsPostOnlyAndListingIsGetOnly() async {
        let provider = DeadLetterProvider(DeadLetterRoutesTests.entries)
        let byGet = await AdminServer.respond(
            to: Self.request(.get, "/api/v1/queue/dead-letters/clear"), routes: Self.routes(provider))
        #expect(byGet.status.code == 405 && byGet.headers[.allow] == "POST")
        let byPost = await AdminServer.respond(
            to: Self.request(.post, "/api/v1/queue/dead-letters"), routes: Self.routes(provider))
        #expect(byPost.status.code == 405)
        #expect(provider.table.withLock { $0.count } == 3)
        let cleared = await AdminServer.respond(
            to: Self.request(.post, "/api/v1/queue/dead-letters/clear"), routes: Self.routes(provider))
        #expect(cleared.status.code == 200)
        #expect(provider.table.withLock { $0.isEmpty })
    }
}

/// The times of the admin API's documents.
@Suite struct RFC3339TimeTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (1_709_251_199_999, "2024-02-29T23:59:59.999Z"),
        (951_868_800_000, "2000-03-01T00:00:00.000Z"),
        (1_796_653_800_123, "2026-12-07T14:30:00.123Z"),
        (-5, "1970-01-01T00:00:00.000Z"),
    ])
    func formats(milliseconds: Int64, text: String) {
        #expect(RFC3339Time.format(millisecondsSinceEpoch: milliseconds) == text)
    }
}
