import HTTPTypes
public import HummingbirdCore
public import Logging
import Metrics
import NIOCore
import Synchronization
public import WharfConfig

/// Who may use the admin API, and the login that decides it (`/api/v1/session`).
///
/// A peer on this machine is trusted without a login while `admin.trust_loopback` holds (so
/// `wharfctl` keeps working); any other peer needs a session for the API (`/api/...`) and
/// `/metrics`. `/healthz`, the session endpoint and everything outside `/api/` (the page) are open
/// to all, so that the page can show its login form. Every action (POST) needs the header
/// `X-Wharf-Action: 1`, which a cross-site form cannot send.
public final class AdminAccess: Sendable {
    /// The settings of the login, from the `admin:` section.
    public struct Settings: Sendable {
        /// Peers on this machine need no login (`trust_loopback`).
        public var trustLoopback: Bool
        /// A login over plain HTTP from a peer that is not trusted is taken (`allow_insecure_login`).
        public var allowInsecureLogin: Bool
        /// The listener takes TLS (`admin.tls`).
        public var tls: Bool
        /// How long a session lasts.
        public var sessionLifetime: Duration
        /// The most sessions kept.
        public var maxSessions: Int
        /// Failed logins per peer per minute.
        public var loginFailuresPerMinute: Int

        /// The settings of `admin`.
        public init(_ admin: AdminConfig) {
            trustLoopback = admin.trustLoopback
            allowInsecureLogin = admin.allowInsecureLogin
            tls = admin.tls != nil
            sessionLifetime = admin.sessionLifetime
            maxSessions = admin.maxSessions
            loginFailuresPerMinute = admin.loginFailuresPerMinute
        }
    }

    /// The outcome of checking a password.
    public enum PasswordCheckResult: Sendable, Equatable {
        /// The password is the user's.
        case accepted
        /// Wrong user name or password.
        case refused
        /// No check is possible (no password file, or it cannot be read), with why.
        case unavailable(String)
    }

    /// Checks `password` for `user` against the password file (off the event loops).
    public typealias PasswordCheck = @Sendable (_ user: String, _ password: String) async -> PasswordCheckResult

    /// Who asks, once admitted.
    public struct Caller: Sendable, Equatable {
        /// The session's user, if the request carries a valid session.
        public var user: String?
        /// Whether the peer is trusted without a login.
        public var trusted: Bool
        /// The peer.
        public var peer: PeerIdentity

        /// The name actions are logged under: the session's user, or `local` for a trusted peer.
        public var name: String { user ?? (trusted ? "local" : "anonymous") }
    }

    /// What to do with a request.
    public enum Admission: Sendable {
        /// Answered here (the session endpoint, or a refusal).
        case answered(Response)
        /// Served by the routes, for `Caller`.
        case admitted(Caller)
    }

    let settings: Settings
    let check: PasswordCheck
    let logger: Logger
    let now: @Sendable () -> Duration
    let makeToken: @Sendable () -> String
    private let state: Mutex<(sessions: SessionTable, throttle: LoginThrottle)>

    /// The largest login body read: two short strings in JSON.
    static let maxLoginBytes = 4096
    /// The session endpoint.
    public static let sessionPath = "\(AdminRoutes.apiPrefix)/session"
    /// The header every action needs, lowercase.
    public static let actionHeader = "x-wharf-action"

    /// Creates the gate; `now` is a monotonic clock and `makeToken` makes session tokens (both
    /// injected for tests).
    public init(
        settings: Settings, logger: Logger, check: @escaping PasswordCheck,
        now: (@Sendable () -> Duration)? = nil, makeToken: (@Sendable () -> String)? = nil
    ) {
        self.settings = settings
        self.logger = logger
        self.check = check
        let start = ContinuousClock.now
        self.now = now ?? { ContinuousClock.now - start }
        self.makeToken =
            makeToken ?? {
                var generator = SystemRandomNumberGenerator()
                return SessionCookie.newToken(using: &generator)
            }
        state = Mutex(
            (
                SessionTable(capacity: settings.maxSessions, lifetime: settings.sessionLifetime),
                LoginThrottle(limit: settings.loginFailuresPerMinute)
            ))
    }

    /// Whether `peer` is trusted without a login.
    func trusts(_ peer: PeerIdentity) -> Bool {
        settings.trustLoopback && peer.isLoopback
    }

    /// Whether `path` needs a login from a peer that is not trusted.
    static func needsLogin(_ path: String) -> Bool {
        path == "/metrics" || path.hasPrefix("/api/")
    }

    /// Admits `request` from `peer` (over TLS when `secure`), or answers it: the session endpoint,
    /// `403` for plain HTTP on a TLS listener from a peer that is not trusted, `401` without a
    /// session where one is needed, `403` for an action without its header.
    public func admit(_ request: Request, peer: PeerIdentity, secure: Bool) async -> Admission {
        let trusted = trusts(peer)
        if settings.tls && !secure && !trusted {
            return .answered(
                refusal(
                    403, "plain-http",
                    "this API is served over HTTPS (admin.tls) to other machines; use https:// with the same port"))
        }
        let token = SessionCookie.token(in: request.headers[values: .cookie])
        let user = token.flatMap { token in
            let now = self.now()
            return state.withLock { $0.sessions.user(for: token, now: now) }
        }
        let caller = Caller(user: user, trusted: trusted, peer: peer)
        let path = request.uri.path
        if path == Self.sessionPath {
            return .answered(await session(request, caller: caller, token: token, secure: secure))
        }
        if Self.needsLogin(path) && !trusted && user == nil {
            return .answered(refusal(401, "login-required", "login required"))
        }
        if request.method == .post && AdminRoutes.isActionPath(path) && !Self.hasActionHeader(request) {
            return .answered(
                refusal(
                    403, "action-header", "actions need the header X-Wharf-Action: 1 (sent by the page and wharfctl)"))
        }
        return .admitted(caller)
    }

    /// Whether `request` carries `X-Wharf-Action: 1`.
    static func hasActionHeader(_ request: Request) -> Bool {
        request.headers.contains { $0.name.canonicalName == actionHeader && $0.value == "1" }
    }

    /// A JSON refusal `{"error": message}`, counted by reason.
    func refusal(_ status: Int, _ reason: String, _ message: String) -> Response {
        Counter(label: "wharf_admin_requests_refused_total", dimensions: [("reason", reason)]).increment()
        return Self.json(status, .object([("error", .string(message))]))
    }

    static func json(_ status: Int, _ value: JSONValue) -> Response {
        AdminServer.dated(
            AdminServer.response(
                AdminRoutes.Reply(status: status, contentType: AdminRoutes.json, body: value.rendered() + "\n")))
    }

    /// Ends every session expired by now (also done at each login).
    func prune() {
        let now = self.now()
        state.withLock { $0.sessions.prune(now: now) }
    }

    /// How many sessions are kept (tests).
    var sessionCount: Int { state.withLock { $0.sessions.count } }

    /// Records a failed login; true when it used the peer's last attempt of the minute.
    func recordFailure(_ peer: PeerIdentity) -> Bool {
        let now = self.now()
        return state.withLock { state in
            state.throttle.failed(peer: peer.throttleKey, now: now)
            return state.throttle.retryAfter(peer: peer.throttleKey, now: now) != nil
        }
    }

    /// How long `peer` must wait before its next login attempt, if it must.
    func retryAfter(_ peer: PeerIdentity) -> Duration? {
        let now = self.now()
        return state.withLock { $0.throttle.retryAfter(peer: peer.throttleKey, now: now) }
    }

    /// Opens a session for `user`; its token. Ends the oldest session when the table is full.
    func openSession(user: String, peer: PeerIdentity) -> String {
        let token = makeToken()
        let now = self.now()
        let evicted = state.withLock { state in
            state.throttle.succeeded(peer: peer.throttleKey)
            return state.sessions.create(user: user, token: token, now: now)
        }
        if let evicted {
            Counter(label: "wharf_admin_sessions_evicted_total").increment()
            logger.notice(
                "admin session of '\(evicted)' ended to make room for a new login (admin.max_sessions)",
                metadata: ["admin.user": "\(evicted)"])
        }
        return token
    }

    /// Ends the session of `token`; its user.
    func closeSession(_ token: String) -> String? {
        state.withLock { $0.sessions.remove(token) }
    }
}
