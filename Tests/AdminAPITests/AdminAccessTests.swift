import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import Synchronization
import Testing
import WharfConfig

@testable import AdminAPI

/// The login and the gate, attacks first: every way in without the password is refused.
@Suite struct AdminAccessTests {
    static let remote = PeerIdentity(isLoopback: false, key: "192.168.1.20", text: "192.168.1.20")
    static let otherRemote = PeerIdentity(isLoopback: false, key: "192.168.1.21", text: "192.168.1.21")
    static let local = PeerIdentity(isLoopback: true, key: "127.0.0.1", text: "127.0.0.1")

    /// A gate with a manual clock and a password check that counts its calls; `ann` / `s3cret`.
    final class Harness: Sendable {
        final class Counters: Sendable {
            let now = Mutex(Duration.zero)
            let checks = Atomic<Int>(0)
            let tokens = Atomic<Int>(0)
        }

        let counters = Counters()
        let access: AdminAccess
        var checks: Int { counters.checks.load(ordering: .relaxed) }

        init(_ configure: (inout AdminConfig) -> Void = { _ in }) {
            var admin = AdminConfig(allowRemote: true, allowInsecureLogin: true)
            configure(&admin)
            let counters = self.counters
            access = AdminAccess(
                settings: .init(admin), logger: Logger(label: "test.admin.access"),
                check: { user, password in
                    counters.checks.add(1, ordering: .relaxed)
                    return user == "ann" && password == "s3cret" ? .accepted : .refused
                },
                now: { counters.now.withLock { $0 } },
                makeToken: {
                    let number = counters.tokens.add(1, ordering: .relaxed).newValue
                    return String(repeating: "T", count: 40) + String(100 + number)
                })
        }

        func advance(_ duration: Duration) { counters.now.withLock { $0 += duration } }
    }

    static func request(
        _ method: HTTPRequest.Method, _ path: String, cookie: String? = nil, action: Bool = false, body: String? = nil
    ) -> Request {
        var fields = HTTPFields()
        if let cookie { fields[.cookie] = "wharf_session=\(cookie)" }
        if action, let name = HTTPField.Name("X-Wharf-Action") { fields[name] = "1" }
        if let body { fields[.contentLength] = String(body.utf8.count) }
        let head = HTTPRequest(method: method, scheme: "http", authority: "gw", path: path, headerFields: fields)
        return Request(head: head, body: RequestBody(buffer: ByteBuffer(string: body ?? "")))
    }

    static func login(_ user: String, _ password: String) -> Request {
        request(.post, "/api/v1/session", body: "{\"user\": \"\(user)\", \"password\": \"\(password)\"}")
    }

    /// The answer, or nil when admitted.
    static func answer(_ admission: AdminAccess.Admission) -> Response? {
        if case .answered(let response) = admission { return response }
        return nil
    }

    static func caller(_ admission: AdminAccess.Admission) -> AdminAccess.Caller? {
        if case .admitted(let caller) = admission { return caller }
        return nil
    }

    static func body(_ response: Response?) async -> String {
        guard let response else { return "" }
        let collector = BodyCollector()
        try? await response.body.write(collector)
        return collector.text
    }

    /// Logs `ann` in from `peer`; the token.
    static func token(_ harness: Harness, from peer: PeerIdentity = remote, secure: Bool = false) async throws -> String
    {
        let response = try #require(
            answer(await harness.access.admit(login("ann", "s3cret"), peer: peer, secure: secure)))
        #expect(response.status.code == 204)
        let cookie = try #require(response.headers[.setCookie])
        let token = try #require(SessionCookie.token(in: [cookie]))
        return token
    }

    @Test func withoutASessionTheAPIAndMetricsAreRefused() async {
        let harness = Harness()
        for path in ["/api/v1/status", "/api/v1/config", "/api/v1/logs", "/api/v1/events", "/metrics"] {
            let response = Self.answer(
                await harness.access.admit(Self.request(.get, path), peer: Self.remote, secure: false))
            #expect(response?.status.code == 401, "\(path)")
            #expect(await Self.body(response).contains("\"error\": \"login required\""))
        }
        // The page and its assets, /healthz and the session endpoint stay open: the page shows its form.
        for path in ["/", "/ui/app.js", "/healthz"] {
            #expect(
                Self.caller(await harness.access.admit(Self.request(.get, path), peer: Self.remote, secure: false))
                    != nil)
        }
        let session = Self.answer(
            await harness.access.admit(Self.request(.get, "/api/v1/session"), peer: Self.remote, secure: false))
        #expect(await Self.body(session).contains("\"login_required\": true"))
        #expect(await Self.body(session).contains("\"user\": null"))
    }

    @Test func aWrongPasswordOrUnknownUserIs401() async {
        let harness = Harness()
        for (user, password) in [("ann", "wrong"), ("bob", "s3cret"), ("ann", "")] {
            let response = Self.answer(
                await harness.access.admit(Self.login(user, password), peer: Self.remote, secure: false))
            #expect(response?.status.code == 401)
            #expect(response?.headers[.setCookie] == nil)
        }
        #expect(harness.access.sessionCount == 0)
    }

    @Test func theRightPasswordOpensASessionWithAStrictCookie() async throws {
        let harness = Harness()
        let response = try #require(
            Self.answer(await harness.access.admit(Self.login("ann", "s3cret"), peer: Self.remote, secure: false)))
        #expect(response.status.code == 204)
        let cookie = try #require(response.headers[.setCookie])
        #expect(cookie.contains("; HttpOnly") && cookie.contains("; SameSite=Strict") && cookie.contains("; Path=/"))
        #expect(cookie.contains("; Max-Age=28800") && !cookie.contains("Secure"))
        let token = try #require(SessionCookie.token(in: [cookie]))
        let caller = Self.caller(
            await harness.access.admit(
                Self.request(.get, "/api/v1/status", cookie: token), peer: Self.remote, secure: false))
        #expect(caller?.user == "ann" && caller?.name == "ann")
        let session = Self.answer(
            await harness.access.admit(
                Self.request(.get, "/api/v1/session", cookie: token), peer: Self.remote, secure: false))
        #expect(await Self.body(session).contains("\"user\": \"ann\""))
        // Over TLS the cookie is Secure.
        let overTLS = try #require(
            Self.answer(await harness.access.admit(Self.login("ann", "s3cret"), peer: Self.remote, secure: true)))
        #expect(overTLS.headers[.setCookie]?.hasSuffix("; Secure") == true)
    }

    @Test func aForgedOrMalformedCookieIs401() async {
        let harness = Harness()
        _ = try? await Self.token(harness)
        for forged in [String(repeating: "T", count: 40) + "999", String(repeating: "A", count: 43), "x", ""] {
            let response = Self.answer(
                await harness.access.admit(
                    Self.request(.get, "/api/v1/status", cookie: forged), peer: Self.remote, secure: false))
            #expect(response?.status.code == 401, "\(forged)")
        }
    }

    @Test func anExpiredOrLoggedOutSessionIs401() async throws {
        let harness = Harness { $0.sessionLifetime = .seconds(600) }
        let token = try await Self.token(harness)
        harness.advance(.seconds(599))
        #expect(
            Self.caller(
                await harness.access.admit(
                    Self.request(.get, "/api/v1/status", cookie: token), peer: Self.remote, secure: false)) != nil)
        harness.advance(.seconds(1))
        #expect(
            Self.answer(
                await harness.access.admit(
                    Self.request(.get, "/api/v1/status", cookie: token), peer: Self.remote, secure: false))?.status.code
                == 401)

        let second = try await Self.token(harness)
        let logout = try #require(
            Self.answer(
                await harness.access.admit(
                    Self.request(.delete, "/api/v1/session", cookie: second), peer: Self.remote, secure: false)))
        #expect(logout.status.code == 204)
        #expect(logout.headers[.setCookie]?.contains("Max-Age=0") == true)
        #expect(
            Self.answer(
                await harness.access.admit(
                    Self.request(.get, "/api/v1/status", cookie: second), peer: Self.remote, secure: false))?.status
                .code == 401)
    }

    /// A cross-site form can POST with the user's cookie (were it sent) but not with a custom header.
    @Test func anActionWithoutItsHeaderIsRefusedEvenWithASessionOrFromThisMachine() async throws {
        let harness = Harness()
        let token = try await Self.token(harness)
        let path = "/api/v1/plugins/line1/restart"
        for peer in [Self.remote, Self.local] {
            let refused = Self.answer(
                await harness.access.admit(Self.request(.post, path, cookie: token), peer: peer, secure: false))
            #expect(refused?.status.code == 403)
            #expect(await Self.body(refused).contains("X-Wharf-Action: 1"))
        }
        #expect(
            Self.caller(
                await harness.access.admit(
                    Self.request(.post, path, cookie: token, action: true), peer: Self.remote, secure: false))?.name
                == "ann")
        // Without a session, the header alone does not help a remote peer; on this machine it is `local`.
        #expect(
            Self.answer(
                await harness.access.admit(Self.request(.post, path, action: true), peer: Self.remote, secure: false))?
                .status.code == 401)
        #expect(
            Self.caller(
                await harness.access.admit(Self.request(.post, path, action: true), peer: Self.local, secure: false))?
                .name == "local")
    }

    @Test func bruteForceIsThrottledPerPeerWithoutCheckingThePassword() async throws {
        let harness = Harness { $0.loginFailuresPerMinute = 5 }
        for _ in 0..<5 {
            #expect(
                Self.answer(await harness.access.admit(Self.login("ann", "guess"), peer: Self.remote, secure: false))?
                    .status.code == 401)
        }
        let checksBefore = harness.checks
        // Even the right password is not checked now.
        let throttled = try #require(
            Self.answer(await harness.access.admit(Self.login("ann", "s3cret"), peer: Self.remote, secure: false)))
        #expect(throttled.status.code == 429)
        #expect(throttled.headers[.retryAfter] == "60")
        #expect(harness.checks == checksBefore)
        // Another address is not held back.
        #expect(
            Self.answer(await harness.access.admit(Self.login("ann", "s3cret"), peer: Self.otherRemote, secure: false))?
                .status.code == 204)
        harness.advance(.seconds(60))
        #expect(
            Self.answer(await harness.access.admit(Self.login("ann", "s3cret"), peer: Self.remote, secure: false))?
                .status.code == 204)
    }

    @Test func noLoginOverPlainHTTPFromAnotherMachineUnlessAllowed() async {
        let harness = Harness { $0.allowInsecureLogin = false }
        let response = Self.answer(
            await harness.access.admit(Self.login("ann", "s3cret"), peer: Self.remote, secure: false))
        #expect(response?.status.code == 403)
        #expect(await Self.body(response).contains("allow_insecure_login"))
        #expect(harness.checks == 0, "the password was not even sent to the check")
        #expect(
            Self.answer(await harness.access.admit(Self.login("ann", "s3cret"), peer: Self.remote, secure: true))?
                .status.code == 204)
        // This machine's traffic does not cross the network.
        #expect(
            Self.answer(await harness.access.admit(Self.login("ann", "s3cret"), peer: Self.local, secure: false))?
                .status.code == 204)
    }

    @Test func withTLSPlainHTTPIsForThisMachineOnly() async throws {
        let harness = Harness {
            $0.tls = ListenerTLSConfig(certFile: ConfigFileSetting(path: "/c"), keyFile: ConfigFileSetting(path: "/k"))
        }
        let response = Self.answer(
            await harness.access.admit(Self.request(.get, "/"), peer: Self.remote, secure: false))
        #expect(response?.status.code == 403)
        #expect(await Self.body(response).contains("https://"))
        #expect(
            Self.caller(
                await harness.access.admit(Self.request(.get, "/api/v1/status"), peer: Self.local, secure: false))
                != nil)
        #expect(
            Self.caller(await harness.access.admit(Self.request(.get, "/"), peer: Self.remote, secure: true)) != nil)
    }

    /// With trust_loopback: false, a peer on this machine is one like any other (a reverse proxy
    /// on the box makes every peer look local).
    @Test func untrustedLoopbackNeedsALoginToo() async throws {
        let harness = Harness { $0.trustLoopback = false }
        #expect(
            Self.answer(
                await harness.access.admit(Self.request(.get, "/api/v1/status"), peer: Self.local, secure: false))?
                .status.code == 401)
        let session = Self.answer(
            await harness.access.admit(Self.request(.get, "/api/v1/session"), peer: Self.local, secure: false))
        #expect(await Self.body(session).contains("\"login_required\": true"))
        let token = try await Self.token(harness, from: Self.local)
        #expect(
            Self.caller(
                await harness.access.admit(
                    Self.request(.get, "/api/v1/status", cookie: token), peer: Self.local, secure: false))?.user
                == "ann")
    }

    @Test func sessionsAreBoundedTheOldestEnds() async throws {
        let harness = Harness { $0.maxSessions = 2 }
        let first = try await Self.token(harness)
        harness.advance(.seconds(1))
        let second = try await Self.token(harness)
        harness.advance(.seconds(1))
        let third = try await Self.token(harness)
        #expect(harness.access.sessionCount == 2)
        #expect(
            Self.answer(
                await harness.access.admit(
                    Self.request(.get, "/api/v1/status", cookie: first), peer: Self.remote, secure: false))?.status.code
                == 401)
        for token in [second, third] {
            #expect(
                Self.caller(
                    await harness.access.admit(
                        Self.request(.get, "/api/v1/status", cookie: token), peer: Self.remote, secure: false)) != nil)
        }
    }

    @Test func aMalformedLoginBodyIs400() async {
        let harness = Harness()
        for body in ["", "{}", "{\"user\": 1, \"password\": \"x\"}", "user=ann&password=s3cret"] {
            let response = Self.answer(
                await harness.access.admit(
                    Self.request(.post, "/api/v1/session", body: body), peer: Self.remote, secure: false))
            #expect(response?.status.code == 400, "\(body)")
        }
        let huge = String(repeating: "x", count: 5000)
        #expect(
            Self.answer(
                await harness.access.admit(
                    Self.request(.post, "/api/v1/session", body: huge), peer: Self.remote, secure: false))?.status.code
                == 400)
        #expect(harness.checks == 0)
    }
}

/// Collects a response body's bytes.
final class BodyCollector: ResponseBodyWriter {
    var bytes: [UInt8] = []
    var text: String { String(decoding: bytes, as: UTF8.self) }
    func write(_ buffer: ByteBuffer) async throws { bytes += buffer.readableBytesView }
    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
