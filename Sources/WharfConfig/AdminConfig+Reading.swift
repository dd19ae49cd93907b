/// Decoding and cross-checks of the `admin:` section.
extension AdminConfig {
    /// Reads the section; `brokerPasswordFile` is the broker's, which logins use by default.
    init(reading reader: ConfigReader, brokerPasswordFile: String = "") {
        let defaults = AdminConfig()
        self.init()
        enabled = reader.bool("enabled", default: defaults.enabled)
        allowRemote = reader.bool("allow_remote", default: defaults.allowRemote)
        logLines = reader.int("log_lines", default: defaults.logLines, in: 0...Self.maxLogLines)
        maxEventStreams = reader.int(
            "max_event_streams", default: defaults.maxEventStreams, in: 0...Self.maxEventStreamsLimit)
        if let node = reader.value("history_interval"),
            let interval = reader.duration(node, in: Self.minHistoryInterval...)
        {
            if interval <= Self.maxHistoryInterval {
                historyInterval = interval
            } else {
                reader.report("expected a duration of at most 10m, got \(node.quoted)", at: node)
            }
        }
        if let node = reader.value("listen"), let text = reader.string(node) {
            if let (host, port) = Self.parseListen(text), NameRules.isBindAddress(host) {
                self.host = host
                self.port = port
                if !allowRemote && !Self.isLoopback(host) {
                    reader.report(
                        "the admin API listens on this machine only (127.0.0.1 or [::1]) unless allowed; "
                            + "got \(node.quoted). Set allow_remote: true to open it to other machines "
                            + "(they then need a login)",
                        at: node
                    )
                }
            } else {
                reader.report(
                    "expected HOST:PORT with a port from 1 to 65535, such as 127.0.0.1:9883 or [::1]:9883, "
                        + "got \(node.quoted)",
                    at: node
                )
            }
        }
        readLogin(reader, brokerPasswordFile: brokerPasswordFile)
        reader.finish()
    }

    /// The login keys, and the rule that a login needs a password file.
    private mutating func readLogin(_ reader: ConfigReader, brokerPasswordFile: String) {
        let defaults = AdminConfig()
        trustLoopback = reader.bool("trust_loopback", default: defaults.trustLoopback)
        allowInsecureLogin = reader.bool("allow_insecure_login", default: defaults.allowInsecureLogin)
        maxSessions = reader.int("max_sessions", default: defaults.maxSessions, in: 1...Self.maxSessionsLimit)
        loginFailuresPerMinute = reader.int(
            "login_failures_per_minute", default: defaults.loginFailuresPerMinute, in: 1...1000)
        if let node = reader.value("session_lifetime"),
            let lifetime = reader.duration(node, in: Self.sessionLifetimeRange.lowerBound...)
        {
            if lifetime <= Self.sessionLifetimeRange.upperBound {
                sessionLifetime = lifetime
            } else {
                reader.report("expected a duration of at most 30d, got \(node.quoted)", at: node)
            }
        }
        if let node = reader.value("password_file"), let path = reader.string(node), !path.isEmpty {
            if !path.contains(where: { $0 == "\0" || $0.isNewline }) {
                passwordFile = ConfigFileSetting(path: path, location: node)
            } else {
                reader.report("expected a file path such as /etc/wharf/admin-passwd, got \(node.quoted)", at: node)
            }
        }
        if reader.value("tls") != nil {
            tls = ListenerTLSConfig(reading: reader.section("tls"))
        }
        guard loginPossible, passwordFile == nil, brokerPasswordFile.isEmpty else { return }
        let node = allowRemote ? reader.value("allow_remote") : reader.value("trust_loopback")
        if let node {
            reader.report(
                "a login is then required, and checked against a password file: set admin.password_file "
                    + "or broker.password_file (made with 'wharfctl passwd -c FILE USER')",
                at: node
            )
        }
    }
}
