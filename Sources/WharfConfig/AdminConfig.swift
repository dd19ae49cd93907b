/// The admin HTTP API (`admin:` section): health, Prometheus metrics, status and effective config,
/// logs, history and live events, and the login of peers on other machines.
public struct AdminConfig: Sendable, Equatable {
    /// Whether the admin API runs.
    public var enabled: Bool
    /// The address it listens on: an IP address or host name.
    public var host: String
    /// The TCP port it listens on.
    public var port: Int
    /// Whether `listen` may name an address other than a loopback one; peers on other machines
    /// then need a login (a password file is required).
    public var allowRemote: Bool
    /// How many of the last warning-or-worse log lines are kept in memory for `GET /api/v1/logs`
    /// (`log_lines`); 0 keeps none.
    public var logLines: Int
    /// The time between two samples of `GET /api/v1/history` (`history_interval`); the history
    /// keeps an hour of them.
    public var historyInterval: Duration
    /// The most event streams (`GET /api/v1/events`) open at once (`max_event_streams`); 0 turns
    /// them off.
    public var maxEventStreams: Int
    /// The password file logins are checked against (`password_file`); `nil` uses the broker's.
    public var passwordFile: ConfigFileSetting?
    /// Whether peers on this machine (127.0.0.0/8, ::1) are trusted without a login
    /// (`trust_loopback`); when `false` they are treated as any other peer.
    public var trustLoopback: Bool
    /// Whether a login over plain HTTP from a peer that is not trusted is taken
    /// (`allow_insecure_login`); without it such a login needs `tls`.
    public var allowInsecureLogin: Bool
    /// How long a login lasts (`session_lifetime`): the cookie's Max-Age.
    public var sessionLifetime: Duration
    /// The most sessions kept at once (`max_sessions`); a new login beyond it ends the oldest.
    public var maxSessions: Int
    /// Failed logins taken from one address (an IPv6 /64) within a minute before further attempts
    /// from it are refused until the minute is over (`login_failures_per_minute`).
    public var loginFailuresPerMinute: Int
    /// HTTPS for the API (`tls`), with the broker listeners' settings.
    public var tls: ListenerTLSConfig?

    /// The most `log_lines` taken: each line is bounded (2 KiB of message, 16 metadata values),
    /// so this bounds the ring's memory to a few tens of MiB at worst.
    public static let maxLogLines = 10_000
    /// The shortest `history_interval`: an hour of samples at one a second is 3600 of them.
    public static let minHistoryInterval = Duration.seconds(1)
    /// The most `max_event_streams` taken: each holds a connection and a descriptor on top of the
    /// 16 the API keeps for tools.
    public static let maxEventStreamsLimit = 32
    /// The longest `history_interval`.
    public static let maxHistoryInterval = Duration.seconds(600)

    /// The shortest and longest `session_lifetime`.
    public static let sessionLifetimeRange = Duration.seconds(60)...Duration.seconds(30 * 86_400)
    /// The most `max_sessions` taken.
    public static let maxSessionsLimit = 1000

    /// Creates the section.
    public init(
        enabled: Bool = true, host: String = "127.0.0.1", port: Int = 9883, allowRemote: Bool = false,
        logLines: Int = 200, historyInterval: Duration = .seconds(10), maxEventStreams: Int = 8,
        passwordFile: ConfigFileSetting? = nil, trustLoopback: Bool = true, allowInsecureLogin: Bool = false,
        sessionLifetime: Duration = .seconds(8 * 3600), maxSessions: Int = 32, loginFailuresPerMinute: Int = 5,
        tls: ListenerTLSConfig? = nil
    ) {
        self.enabled = enabled
        self.host = host
        self.port = port
        self.allowRemote = allowRemote
        self.logLines = logLines
        self.historyInterval = historyInterval
        self.maxEventStreams = maxEventStreams
        self.passwordFile = passwordFile
        self.trustLoopback = trustLoopback
        self.allowInsecureLogin = allowInsecureLogin
        self.sessionLifetime = sessionLifetime
        self.maxSessions = maxSessions
        self.loginFailuresPerMinute = loginFailuresPerMinute
        self.tls = tls
    }

    /// Whether some peer can need a login: any peer once the API is open to other machines, or
    /// every peer when peers on this machine are not trusted.
    public var loginPossible: Bool { allowRemote || !trustLoopback }

    /// `host:port` as written in the config (`[::1]:9883` for IPv6).
    public var listen: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Splits `HOST:PORT` or `[IPv6]:PORT`; `nil` when it is not of that form.
    public static func parseListen(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = Substring(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = host.dropFirst().dropLast()
        } else if host.contains(":") {
            return nil
        }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (1...65_535).contains(port) else {
            return nil
        }
        return (String(host), port)
    }

    /// Whether `host` can only be reached from this machine: 127.0.0.0/8, ::1 or `localhost`.
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        return NameRules.isIPv4(host) && host.hasPrefix("127.")
    }
}
