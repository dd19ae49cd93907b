import MQTTCodec
import Testing

/// The names the admin API and `wharfctl` show for reason codes.
@Suite struct ReasonCodeNameTests {
    @Test func theRefusalsTheUplinkSortsHaveTheSpecificationsNames() {
        let expected: [UInt8: String] = [
            0x80: "unspecified-error", 0x83: "implementation-specific-error", 0x87: "not-authorized",
            0x89: "server-busy", 0x8B: "server-shutting-down", 0x90: "topic-name-invalid",
            0x93: "receive-maximum-exceeded", 0x95: "packet-too-large", 0x96: "message-rate-too-high",
            0x97: "quota-exceeded", 0x99: "payload-format-invalid",
        ]
        for (code, name) in expected {
            #expect(ReasonCode.name(of: code) == name, "0x\(String(code, radix: 16))")
        }
    }

    @Test func everyByteHasAName() {
        var names: [String: UInt8] = [:]
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-".utf8)
        for code in UInt8.min...UInt8.max {
            let name = ReasonCode.name(of: code)
            #expect(!name.isEmpty && name.utf8.allSatisfy(allowed.contains), "\(name)")
            guard ReasonCode(rawValue: code) != nil else {
                #expect(name == "unknown")
                continue
            }
            // One name per defined code, so that a name identifies its code.
            #expect(names[name] == nil, "\(name) for both 0x\(String(code, radix: 16)) and another code")
            names[name] = code
        }
        #expect(names.count == ReasonCode.allCases.count)
    }
}
