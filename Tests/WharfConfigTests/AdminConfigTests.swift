import Testing
import WharfConfig

@Suite struct AdminConfigTests {
    @Test func defaultsListenOnLoopback() {
        let admin = WharfConfiguration.default.admin
        #expect(admin.enabled)
        #expect(admin.host == "127.0.0.1")
        #expect(admin.port == 9883)
        #expect(!admin.allowRemote)
        #expect(admin.listen == "127.0.0.1:9883")
    }

    @Test func readsEverySetting() throws {
        let configuration = try #require(
            loadValid("admin:\n  enabled: false\n  listen: \"[::1]:9000\"\n  allow_remote: false\n"))
        #expect(configuration.admin == AdminConfig(enabled: false, host: "::1", port: 9000))
        #expect(configuration.admin.listen == "[::1]:9000")
    }

    @Test(arguments: ["127.0.0.1:1", "127.0.1.5:9883", "localhost:9883", "[::1]:65535"])
    func acceptsLoopbackAddresses(listen: String) {
        #expect(loadValid("admin:\n  listen: \"\(listen)\"\n") != nil)
    }

    @Test func refusesANetworkAddressUnlessAllowed() throws {
        let found = issues(of: "admin:\n  listen: 0.0.0.0:9883\n")
        #expect(found.count == 1)
        #expect(found.first?.path == "admin.listen")
        #expect(found.first?.line == 2)
        #expect(found.first?.message.contains("allow_remote: true") == true)

        let open = try #require(
            loadValid(
                "broker:\n  password_file: /etc/wharf/passwd\nadmin:\n  listen: 0.0.0.0:9883\n  allow_remote: true\n"))
        #expect(open.admin.host == "0.0.0.0")
    }

    @Test(arguments: ["9883", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "::1:9883", ":9883", "a b:1"])
    func refusesMalformedAddresses(listen: String) {
        let found = issues(of: "admin:\n  listen: \"\(listen)\"\n")
        #expect(found.map(\.path) == ["admin.listen"])
        #expect(found.first?.message.hasPrefix("expected HOST:PORT") == true)
    }

    @Test func reportsEveryProblemAtOnce() {
        let found = issues(of: "admin:\n  enabled: maybe\n  listen: nowhere\n  allow_remot: true\n")
        #expect(found.map(\.path).sorted() == ["admin.allow_remot", "admin.enabled", "admin.listen"])
    }

    @Test func logLinesAreBounded() throws {
        #expect(WharfConfiguration.default.admin.logLines == 200)
        #expect(try #require(loadValid("admin:\n  log_lines: 0\n")).admin.logLines == 0)
        #expect(try #require(loadValid("admin:\n  log_lines: 10000\n")).admin.logLines == 10_000)
        let found = issues(of: "admin:\n  log_lines: 10001\n")
        #expect(found.map(\.path) == ["admin.log_lines"])
        #expect(found.first?.line == 2)
        #expect(issues(of: "admin:\n  log_lines: -1\n").map(\.path) == ["admin.log_lines"])
    }

    @Test func historyIntervalIsBounded() throws {
        #expect(WharfConfiguration.default.admin.historyInterval == .seconds(10))
        #expect(try #require(loadValid("admin:\n  history_interval: 1s\n")).admin.historyInterval == .seconds(1))
        #expect(try #require(loadValid("admin:\n  history_interval: 10m\n")).admin.historyInterval == .seconds(600))
        for bad in ["500ms", "11m", "0", "soon"] {
            let found = issues(of: "admin:\n  history_interval: \(bad)\n")
            #expect(found.map(\.path) == ["admin.history_interval"], "\(bad)")
            #expect(found.first?.line == 2)
        }
    }

    @Test func eventStreamsAreBounded() throws {
        #expect(WharfConfiguration.default.admin.maxEventStreams == 8)
        #expect(try #require(loadValid("admin:\n  max_event_streams: 0\n")).admin.maxEventStreams == 0)
        #expect(try #require(loadValid("admin:\n  max_event_streams: 32\n")).admin.maxEventStreams == 32)
        let found = issues(of: "admin:\n  max_event_streams: 33\n")
        #expect(found.map(\.path) == ["admin.max_event_streams"])
        #expect(found.first?.line == 2)
    }

    /// Open to other machines (or with peers on this machine not trusted), the API needs a login,
    /// so a password file: the admin API's own or the broker's.
    @Test func aLoginNeedsAPasswordFile() throws {
        let open = issues(of: "admin:\n  listen: 0.0.0.0:9883\n  allow_remote: true\n")
        #expect(open.map(\.path) == ["admin.allow_remote"])
        #expect(open.first?.line == 3)
        #expect(open.first?.message.contains("password_file") == true)
        #expect(issues(of: "admin:\n  trust_loopback: false\n").map(\.path) == ["admin.trust_loopback"])
        let own = try #require(
            loadValid(
                "admin:\n  listen: 0.0.0.0:9883\n  allow_remote: true\n  password_file: /etc/wharf/admin-passwd\n"))
        #expect(own.admin.passwordFile?.path == "/etc/wharf/admin-passwd")
        #expect(own.admin.loginPossible)
        #expect(!WharfConfiguration.default.admin.loginPossible)
    }

    @Test func readsTheLoginSettings() throws {
        let yaml = """
            broker:
              password_file: /etc/wharf/passwd
            admin:
              trust_loopback: false
              allow_insecure_login: true
              session_lifetime: 30m
              max_sessions: 4
              login_failures_per_minute: 3
              tls:
                cert_file: /etc/wharf/tls/admin.crt
                key_file: /etc/wharf/tls/admin.key
            """
        let admin = try #require(loadValid(yaml)).admin
        #expect(!admin.trustLoopback && admin.allowInsecureLogin)
        #expect(admin.sessionLifetime == .seconds(1800) && admin.maxSessions == 4 && admin.loginFailuresPerMinute == 3)
        #expect(
            admin.tls?.certFile.path == "/etc/wharf/tls/admin.crt"
                && admin.tls?.keyFile.path == "/etc/wharf/tls/admin.key")
        let defaults = WharfConfiguration.default.admin
        #expect(
            defaults.trustLoopback && !defaults.allowInsecureLogin && defaults.tls == nil
                && defaults.passwordFile == nil)
        #expect(defaults.sessionLifetime == .seconds(8 * 3600) && defaults.maxSessions == 32)
        #expect(defaults.loginFailuresPerMinute == 5)
    }

    @Test func loginSettingsAreBounded() {
        for (key, value) in [
            ("session_lifetime", "30s"), ("session_lifetime", "31d"), ("max_sessions", "0"), ("max_sessions", "1001"),
            ("login_failures_per_minute", "0"), ("password_file", "\"a\\nb\""), ("trust_loopback", "maybe"),
        ] {
            let found = issues(of: "admin:\n  \(key): \(value)\n")
            #expect(found.map(\.path) == ["admin.\(key)"], "\(key): \(value)")
            #expect(found.first?.line == 2)
        }
        let tls = issues(of: "admin:\n  tls:\n    cert_file: /c\n")
        #expect(tls.map(\.path) == ["admin.tls.key_file"])
    }
}
