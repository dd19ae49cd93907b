import HTTPTypes
import HummingbirdCore
import Logging
import Metrics
import NIOCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension AdminAccess {
    /// `GET /api/v1/session`: `{"login_required", "user"}`; `POST` logs in with `{"user",
    /// "password"}` (204 and the cookie, 401, 429 when throttled, 403 over plain HTTP from a peer
    /// that is not trusted unless allowed); `DELETE` logs out (204).
    func session(_ request: Request, caller: Caller, token: String?, secure: Bool) async -> Response {
        switch request.method {
        case .get, .head:
            var response = Self.json(
                200,
                .object([
                    ("login_required", .bool(!caller.trusted)),
                    ("user", caller.user.map { .string($0) } ?? .null),
                ]))
            if request.method == .head { response.body = ResponseBody() }
            return response
        case .delete:
            if let token, let user = closeSession(token) {
                logger.notice("admin logout", metadata: ["admin.user": "\(user)", "admin.peer": "\(caller.peer.text)"])
            }
            var response = AdminServer.dated(Response(status: .noContent))
            response.headers[.setCookie] = SessionCookie.clear(secure: secure)
            response.headers[.cacheControl] = "no-store"
            return response
        case .post:
            return await login(request, caller: caller, secure: secure)
        default:
            var response = Self.json(405, .object([("error", .string("GET, POST or DELETE"))]))
            response.headers[.allow] = "GET, HEAD, POST, DELETE"
            return response
        }
    }

    /// `POST /api/v1/session`.
    func login(_ request: Request, caller: Caller, secure: Bool) async -> Response {
        let peer = caller.peer
        if !secure && !caller.trusted && !settings.allowInsecureLogin {
            Counter(label: "wharf_admin_logins_total", dimensions: [("outcome", "insecure")]).increment()
            return refusal(
                403, "insecure-login",
                "a login over plain HTTP from another machine is refused: use HTTPS (admin.tls), "
                    + "or set admin.allow_insecure_login: true")
        }
        if let wait = retryAfter(peer) {
            Counter(label: "wharf_admin_logins_total", dimensions: [("outcome", "throttled")]).increment()
            let seconds = max(1, wait.components.seconds + (wait.components.attoseconds > 0 ? 1 : 0))
            var response = refusal(
                429, "login-throttled", "too many failed logins from this address; try again in \(seconds) s")
            response.headers[.retryAfter] = "\(seconds)"
            return response
        }
        guard let lengthText = request.headers[.contentLength], let length = Int(lengthText), length >= 0,
            length <= Self.maxLoginBytes
        else {
            var response = refusal(
                400, "login-body", "expected a JSON body {\"user\", \"password\"} with a Content-Length of at most 4096"
            )
            response.headers[.connection] = "close"
            return response
        }
        guard let body = try? await request.body.collect(upTo: Self.maxLoginBytes),
            let credentials = try? JSONDecoder().decode(Credentials.self, from: Data(body.readableBytesView))
        else {
            return refusal(400, "login-body", "expected a JSON body {\"user\": \"name\", \"password\": \"secret\"}")
        }
        let user = LogLine.cut(credentials.user, to: 128)
        switch await check(credentials.user, credentials.password) {
        case .accepted:
            let token = openSession(user: credentials.user, peer: peer)
            Counter(label: "wharf_admin_logins_total", dimensions: [("outcome", "ok")]).increment()
            logger.notice("admin login", metadata: ["admin.user": "\(user)", "admin.peer": "\(peer.text)"])
            var response = AdminServer.dated(Response(status: .noContent))
            response.headers[.setCookie] = SessionCookie.set(
                token, lifetime: settings.sessionLifetime, secure: secure)
            response.headers[.cacheControl] = "no-store"
            return response
        case .refused:
            Counter(label: "wharf_admin_logins_total", dimensions: [("outcome", "refused")]).increment()
            let throttled = recordFailure(peer)
            logger.warning(
                throttled
                    ? "admin login failed; further attempts from this address are refused for a minute"
                    : "admin login failed",
                metadata: ["admin.user": "\(user)", "admin.peer": "\(peer.text)"])
            return refusal(401, "login-refused", "wrong user name or password")
        case .unavailable(let reason):
            Counter(label: "wharf_admin_logins_total", dimensions: [("outcome", "unavailable")]).increment()
            logger.error("admin login not possible: \(reason)", metadata: ["admin.peer": "\(peer.text)"])
            return refusal(503, "login-unavailable", "no login is possible: \(reason)")
        }
    }

    /// The body of a login.
    struct Credentials: Decodable {
        var user: String
        var password: String
    }
}
