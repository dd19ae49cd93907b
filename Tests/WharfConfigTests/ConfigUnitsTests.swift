import Testing
import WharfConfig

@Suite struct ConfigUnitsTests {
    @Test(
        arguments: [
            ("10", Duration.seconds(10)), ("0", .zero), ("500ms", .milliseconds(500)), ("10s", .seconds(10)),
            ("5m", .seconds(300)), ("2h", .seconds(7200)), ("1d", .seconds(86400)), ("1h30m", .seconds(5400)),
            ("1h 30m", .seconds(5400)), ("1m30s500ms", .milliseconds(90500)), ("1.5s", .milliseconds(1500)),
            ("0.25h", .seconds(900)), ("10 s", .seconds(10)), ("10S", .seconds(10)), ("1_000ms", .seconds(1)),
            ("2.5", .milliseconds(2500)), (".5s", .milliseconds(500)), ("0.000000001s", .nanoseconds(1)),
            ("1.0000000019s", .nanoseconds(1_000_000_001)), ("106751d", .seconds(106751 * 86400)),
        ]
    )
    func durationsParse(text: String, expected: Duration) {
        #expect(ConfigUnits.parseDuration(text) == expected)
    }

    @Test(
        arguments: [
            "", " ", "s", "10x", "10 sec", "ten", "-5s", "1h30", "1:30", "5s-", "1..5s", "1e3s", "1w",
            "106752d", "99999999999999999999s", "10s10", "_5s",
        ]
    )
    func durationsReject(text: String) {
        #expect(ConfigUnits.parseDuration(text) == nil)
    }

    @Test(
        arguments: [
            ("0", 0), ("1048576", 1_048_576), ("1_048_576", 1_048_576), ("512B", 512), ("64KiB", 65536),
            ("1MiB", 1_048_576), ("1GiB", 1_073_741_824), ("1KB", 1000), ("1kb", 1000), ("1MB", 1_000_000),
            ("2GB", 2_000_000_000), ("256 KiB", 262_144), ("1.5MiB", 1_572_864), ("0.5KiB", 512), ("1mib", 1_048_576),
        ]
    )
    func sizesParse(text: String, expected: Int) {
        #expect(ConfigUnits.parseSize(text) == expected)
    }

    @Test(arguments: ["", "KiB", "1M", "1K", "1 TB", "-1", "1.5", "1MiB 1KiB", "lots", "99999999999999999999"])
    func sizesReject(text: String) {
        #expect(ConfigUnits.parseSize(text) == nil)
    }

    @Test func durationsAndSizesFormatInTheLargestExactUnit() {
        #expect(ConfigUnits.format(.seconds(10)) == "10s")
        #expect(ConfigUnits.format(.seconds(90)) == "90s")
        #expect(ConfigUnits.format(.seconds(300)) == "5m")
        #expect(ConfigUnits.format(.seconds(7200)) == "2h")
        #expect(ConfigUnits.format(.seconds(86400)) == "1d")
        #expect(ConfigUnits.format(.milliseconds(1500)) == "1500ms")
        #expect(ConfigUnits.format(.zero) == "0s")
        #expect(ConfigUnits.format(.nanoseconds(1_500)) == "0.0000015s")
        #expect(ConfigUnits.format(bytes: 1_048_576) == "1MiB")
        #expect(ConfigUnits.format(bytes: 65536) == "64KiB")
        #expect(ConfigUnits.format(bytes: 1000) == "1000 bytes")
        #expect(ConfigUnits.format(bytes: 1) == "1 byte")
    }

    @Test func formattedDurationsParseBack() {
        for duration in [Duration.seconds(1), .milliseconds(250), .seconds(3600 * 36), .nanoseconds(7)] {
            #expect(ConfigUnits.parseDuration(ConfigUnits.format(duration)) == duration)
        }
    }
}

@Suite struct KeySuggestionTests {
    static let keys = ["listeners", "allow_anonymous", "max_connections", "max_packet_size", "max_keepalive"]

    @Test(
        arguments: [
            ("listners", "listeners"), ("Listeners", "listeners"), ("allowAnonymous", "allow_anonymous"),
            ("max-connections", "max_connections"), ("max_pakcet_size", "max_packet_size"),
            ("max_keep_alive", "max_keepalive"), ("max_packet", "max_packet_size"),
            ("max_connection", "max_connections"),
        ]
    )
    func closeKeysAreSuggested(typed: String, expected: String) {
        #expect(KeySuggestion.closest(to: typed, among: Self.keys) == expected)
    }

    @Test(arguments: ["port", "x", "", "max", "retain", "anonymity"])
    func distantKeysAreNot(typed: String) {
        #expect(KeySuggestion.closest(to: typed, among: Self.keys) == nil)
    }
}
