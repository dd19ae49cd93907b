import Testing
import WharfCore

@testable import WharfConfig

@Suite struct RefusalConfigTests {
    @Test func defaultsKeep0x80And0x83PermanentAndBoundTheDeadLetters() throws {
        let configuration = try #require(loadValid("uplink:\n  enabled: false\n"))
        #expect(configuration.uplink.refusals.transientReasonCodes.isEmpty)
        #expect(configuration.uplink.refusals.throttle.base == .milliseconds(100))
        #expect(configuration.uplink.refusals.throttle.cap == .seconds(30))
        #expect(configuration.storage.deadLetter == DeadLetterConfig(maxRows: 10_000, maxBytes: 16 << 20))
    }

    @Test func theKeysAreRead() throws {
        let yaml = """
            storage:
              dead_letter:
                max_rows: 50
                max_bytes: 1MiB
            uplink:
              transient_reason_codes: [0x80, 0x83]
              throttle:
                base: 20ms
                cap: 2s
            """
        let configuration = try #require(loadValid(yaml))
        #expect(configuration.uplink.refusals.transientReasonCodes == [0x80, 0x83])
        #expect(configuration.uplink.refusals.throttle.base == .milliseconds(20))
        #expect(configuration.uplink.refusals.throttle.cap == .seconds(2))
        #expect(configuration.storage.deadLetter == DeadLetterConfig(maxRows: 50, maxBytes: 1 << 20))
    }

    @Test func onlyTheCatchAllCodesMayBeDeclaredTransient() {
        let found = issues(of: "uplink:\n  transient_reason_codes: [0x80, 0x87, 300]\n")
        #expect(found.count == 2)
        #expect(found.contains { $0.message.contains("only 0x80 and 0x83") })
    }
}
