import Logging
import Testing
import WharfConfig

@testable import AdminAPI

@Suite struct WharfLogHandlerTests {
    @Test func levelsFollowTheSharedTableLive() {
        let levels = LogLevels(LogConfig(level: .info, components: ["broker": .debug]))
        var broker = WharfLogHandler(label: "wharf.broker", levels: levels)
        let uplink = WharfLogHandler(label: "wharf.uplink", levels: levels)
        #expect(broker.logLevel == .debug)
        #expect(uplink.logLevel == .info)
        levels.update(LogConfig(level: .warning))
        #expect(broker.logLevel == .warning)
        #expect(uplink.logLevel == .warning)
        broker.logLevel = .trace
        #expect(broker.logLevel == .trace)
    }

    @Test func adapterLoggersUseTheirInstanceName() {
        let levels = LogLevels(LogConfig(level: .info, components: ["plc-1": .trace]))
        #expect(WharfLogHandler(label: "wharf.adapter.plc-1", levels: levels).logLevel == .trace)
    }
}

@Suite struct WharfLogFormatTests {
    @Test func oneLinePerEventWithSortedQuotedMetadata() {
        let line = WharfLogHandler.format(
            time: "2026-01-01T00:00:00.000Z",
            level: .error,
            label: "wharf.reload",
            message: "reload rejected\nsecond line",
            metadata: ["config.problem": "wharf.yaml:3: bad value", "a": "1", "empty": ""]
        )
        #expect(
            line
                == "2026-01-01T00:00:00.000Z error wharf.reload: reload rejected\\nsecond line a=1 "
                + "config.problem=\"wharf.yaml:3: bad value\" empty=\"\"\n")
    }

    /// Text from clients and plugins (topics, stderr lines) cannot forge a second log line or
    /// put raw control bytes into the log.
    @Test func controlCharactersAreEscaped() {
        #expect(WharfLogHandler.escaped("a\nb\rc\td") == "a\\nb\\rc\\td")
        #expect(WharfLogHandler.escaped("nul\u{0}esc\u{1B}del\u{7F}") == "nul\\u0000esc\\u001Bdel\\u007F")
        #expect(WharfLogHandler.escaped("sep\u{2028}") == "sep\\u2028")
        #expect(WharfLogHandler.escaped("plain °C") == "plain °C")
    }

    @Test func timestampIsISO8601UTC() {
        let stamp = WharfLogHandler.timestamp()
        #expect(stamp.count == 24)
        #expect(stamp.hasSuffix("Z"))
        #expect(stamp.dropFirst(10).first == "T")
    }
}
