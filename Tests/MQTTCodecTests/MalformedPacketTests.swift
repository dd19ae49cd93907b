import MQTTCodec
import NIOCore
import Testing

/// Bytes that must be refused, with the reason code the refusal must carry.
struct BadCase: Sendable, CustomTestStringConvertible {
    var name: String
    var version: MQTTProtocolVersion
    var bytes: [UInt8]
    var reason: ReasonCode
    var testDescription: String { "\(name) (\(version))" }

    init(_ name: String, _ version: MQTTProtocolVersion, _ bytes: [UInt8], _ reason: ReasonCode) {
        self.name = name
        self.version = version
        self.bytes = bytes
        self.reason = reason
    }
}

/// A CONNECT header up to and including the connect flags and keep alive.
private func connectHeader(level: UInt8 = 4, flags: UInt8, name: String = "MQTT") -> [UInt8] {
    s(name) + [level, flags, 0x00, 0x3C]
}

/// Prefixes `body` with a fixed header whose Remaining Length is the body's size (< 128).
func packet(_ first: UInt8, _ body: [UInt8]) -> [UInt8] { [first, UInt8(body.count)] + body }

let fixedHeaderCases: [BadCase] = [
    BadCase("reserved packet type 0", .v311, [0x00, 0x00], .malformedPacket),
    BadCase("reserved packet type 0", .v5, [0x0F, 0x00], .malformedPacket),
    BadCase("AUTH in 3.1.1", .v311, [0xF0, 0x00], .malformedPacket),
    BadCase("AUTH in 3.1", .v31, [0xF0, 0x00], .malformedPacket),
    BadCase("PUBREL with DUP", .v311, [0x6A, 0x02, 0x00, 0x01], .malformedPacket),
    BadCase("SUBSCRIBE with DUP", .v5, packet(0x8A, [0x00, 0x01, 0x00] + s("a") + [0x00]), .malformedPacket),
    BadCase("PUBREL with DUP but not QoS 1", .v31, [0x68, 0x02, 0x00, 0x01], .malformedPacket),
    BadCase("PUBACK with DUP", .v31, [0x48, 0x02, 0x00, 0x01], .malformedPacket),
    BadCase("PINGREQ with DUP", .v31, [0xC8, 0x00], .malformedPacket),
    BadCase("CONNECT flags", .v311, [0x11, 0x00], .malformedPacket),
    BadCase("CONNACK flags", .v5, [0x28, 0x02, 0x00, 0x00], .malformedPacket),
    BadCase("PUBACK flags", .v311, [0x41, 0x02, 0x00, 0x01], .malformedPacket),
    BadCase("PUBREC flags", .v5, [0x52, 0x02, 0x00, 0x01], .malformedPacket),
    BadCase("PUBREL flags 0", .v311, [0x60, 0x02, 0x00, 0x01], .malformedPacket),
    BadCase("PUBREL flags 3", .v5, [0x63, 0x02, 0x00, 0x01], .malformedPacket),
    BadCase("PUBCOMP flags", .v311, [0x72, 0x02, 0x00, 0x01], .malformedPacket),
    BadCase("SUBSCRIBE flags 0", .v311, packet(0x80, [0x00, 0x01] + s("a") + [0x00]), .malformedPacket),
    BadCase("SUBSCRIBE flags 1", .v5, packet(0x81, [0x00, 0x01, 0x00] + s("a") + [0x00]), .malformedPacket),
    BadCase("SUBACK flags", .v311, [0x92, 0x03, 0x00, 0x01, 0x00], .malformedPacket),
    BadCase("UNSUBSCRIBE flags 0", .v311, packet(0xA0, [0x00, 0x01] + s("a")), .malformedPacket),
    BadCase("UNSUBACK flags", .v311, [0xB2, 0x02, 0x00, 0x01], .malformedPacket),
    BadCase("PINGREQ flags", .v311, [0xC1, 0x00], .malformedPacket),
    BadCase("PINGRESP flags", .v5, [0xD8, 0x00], .malformedPacket),
    BadCase("DISCONNECT flags", .v5, [0xE2, 0x00], .malformedPacket),
    BadCase("AUTH flags", .v5, [0xF1, 0x00], .malformedPacket),
    BadCase("remaining length of 5 bytes", .v311, [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], .malformedPacket),
    BadCase("remaining length 0 in 2 bytes", .v311, [0xC0, 0x80, 0x00], .malformedPacket),
    BadCase("remaining length 1 in 3 bytes", .v5, [0x30, 0x81, 0x80, 0x00], .malformedPacket),
]

let publishCases: [BadCase] = [
    BadCase("QoS 3", .v311, packet(0x36, s("t") + [0x00, 0x01]), .malformedPacket),
    BadCase("QoS 3", .v5, packet(0x37, s("t") + [0x00, 0x01, 0x00]), .malformedPacket),
    BadCase("DUP on QoS 0", .v311, packet(0x38, s("t")), .malformedPacket),
    BadCase("DUP on QoS 0", .v5, packet(0x39, s("t") + [0x00]), .malformedPacket),
    BadCase("invalid UTF-8 topic", .v311, packet(0x30, [0x00, 0x02, 0xC3, 0x28]), .malformedPacket),
    BadCase("overlong UTF-8 topic", .v311, packet(0x30, [0x00, 0x02, 0xC0, 0xAF]), .malformedPacket),
    BadCase("UTF-16 surrogate in topic", .v5, packet(0x30, [0x00, 0x03, 0xED, 0xA0, 0x80, 0x00]), .malformedPacket),
    BadCase("truncated UTF-8 sequence", .v311, packet(0x30, [0x00, 0x02, 0x61, 0xE2]), .malformedPacket),
    BadCase("U+0000 in topic", .v311, packet(0x30, [0x00, 0x02, 0x61, 0x00]), .malformedPacket),
    BadCase("topic longer than the packet", .v311, packet(0x30, [0x00, 0x05, 0x61, 0x62]), .malformedPacket),
    BadCase("topic length truncated", .v311, packet(0x30, [0x00]), .malformedPacket),
    BadCase("empty body", .v5, [0x30, 0x00], .malformedPacket),
    BadCase("+ in topic", .v311, packet(0x30, s("a/+/b") + utf8("x")), .topicNameInvalid),
    BadCase("# in topic", .v5, packet(0x30, s("a/#") + [0x00]), .topicNameInvalid),
    BadCase("empty topic", .v311, packet(0x30, s("") + utf8("x")), .protocolError),
    BadCase("empty topic without alias", .v5, packet(0x30, s("") + [0x00]), .protocolError),
    BadCase("packet identifier 0", .v311, packet(0x32, s("t") + [0x00, 0x00]), .protocolError),
    BadCase("packet identifier 0", .v5, packet(0x34, s("t") + [0x00, 0x00, 0x00]), .protocolError),
    BadCase("packet identifier truncated", .v311, packet(0x32, s("t") + [0x00]), .malformedPacket),
    BadCase("properties missing", .v5, packet(0x32, s("t") + [0x00, 0x01]), .malformedPacket),
    BadCase("property length beyond packet", .v5, packet(0x30, s("t") + [0x05, 0x01, 0x01]), .malformedPacket),
]

let acknowledgmentCases: [BadCase] = [
    BadCase("PUBACK identifier 0", .v311, [0x40, 0x02, 0x00, 0x00], .protocolError),
    BadCase("PUBREL identifier 0", .v5, [0x62, 0x02, 0x00, 0x00], .protocolError),
    BadCase("PUBACK truncated", .v311, [0x40, 0x01, 0x00], .malformedPacket),
    BadCase("PUBACK trailing byte", .v311, [0x40, 0x03, 0x00, 0x01, 0x00], .malformedPacket),
    BadCase("PUBCOMP trailing bytes", .v311, [0x70, 0x04, 0x00, 0x01, 0x00, 0x00], .malformedPacket),
    BadCase("PUBACK reason 0x92", .v5, [0x40, 0x03, 0x00, 0x01, 0x92], .malformedPacket),
    BadCase("PUBREC reason 0x04", .v5, [0x50, 0x03, 0x00, 0x01, 0x04], .malformedPacket),
    BadCase("PUBREL reason 0x10", .v5, [0x62, 0x03, 0x00, 0x01, 0x10], .malformedPacket),
    BadCase("PUBCOMP unknown reason 0x03", .v5, [0x70, 0x03, 0x00, 0x01, 0x03], .malformedPacket),
    BadCase("PUBACK property not allowed", .v5, [0x40, 0x06, 0x00, 0x01, 0x00, 0x02, 0x01, 0x01], .malformedPacket),
    BadCase("PUBACK property length beyond packet", .v5, [0x40, 0x05, 0x00, 0x01, 0x00, 0x02, 0x1F], .malformedPacket),
    BadCase("CONNACK flags byte", .v311, [0x20, 0x02, 0x02, 0x00], .malformedPacket),
    BadCase("CONNACK reserved return code", .v311, [0x20, 0x02, 0x00, 0x06], .malformedPacket),
    BadCase("CONNACK session present on refusal", .v311, [0x20, 0x02, 0x01, 0x05], .protocolError),
    BadCase("CONNACK trailing byte", .v311, [0x20, 0x03, 0x00, 0x00, 0x00], .malformedPacket),
    BadCase("CONNACK truncated", .v311, [0x20, 0x01, 0x00], .malformedPacket),
    BadCase("CONNACK reason 0x01", .v5, [0x20, 0x03, 0x00, 0x01, 0x00], .malformedPacket),
    BadCase("CONNACK reason 0x8B", .v5, [0x20, 0x03, 0x00, 0x8B, 0x00], .malformedPacket),
    BadCase("CONNACK without properties", .v5, [0x20, 0x02, 0x00, 0x00], .malformedPacket),
    BadCase("SUBACK identifier 0", .v311, [0x90, 0x03, 0x00, 0x00, 0x00], .protocolError),
    BadCase("SUBACK without codes", .v311, [0x90, 0x02, 0x00, 0x01], .protocolError),
    BadCase("SUBACK without codes", .v5, [0x90, 0x03, 0x00, 0x01, 0x00], .protocolError),
    BadCase("SUBACK code 3", .v311, [0x90, 0x03, 0x00, 0x01, 0x03], .malformedPacket),
    BadCase("SUBACK code 0x87", .v311, [0x90, 0x03, 0x00, 0x01, 0x87], .malformedPacket),
    BadCase("SUBACK code 0x11", .v5, [0x90, 0x04, 0x00, 0x01, 0x00, 0x11], .malformedPacket),
    BadCase("SUBACK failure 0x80", .v31, [0x90, 0x03, 0x00, 0x01, 0x80], .malformedPacket),
    BadCase("CONNACK reserved return code", .v31, [0x20, 0x02, 0x00, 0x06], .malformedPacket),
    BadCase("UNSUBACK identifier 0", .v311, [0xB0, 0x02, 0x00, 0x00], .protocolError),
    BadCase("UNSUBACK trailing byte", .v311, [0xB0, 0x03, 0x00, 0x01, 0x00], .malformedPacket),
    BadCase("UNSUBACK without codes", .v5, [0xB0, 0x03, 0x00, 0x01, 0x00], .protocolError),
    BadCase("UNSUBACK code 0x01", .v5, [0xB0, 0x04, 0x00, 0x01, 0x00, 0x01], .malformedPacket),
    BadCase("UNSUBACK without properties", .v5, [0xB0, 0x02, 0x00, 0x01], .malformedPacket),
    BadCase("PINGREQ with body", .v311, [0xC0, 0x01, 0x00], .malformedPacket),
    BadCase("PINGRESP with body", .v5, [0xD0, 0x01, 0x00], .malformedPacket),
    BadCase("DISCONNECT with body", .v311, [0xE0, 0x01, 0x00], .malformedPacket),
    BadCase("DISCONNECT reason 0x84", .v5, [0xE0, 0x01, 0x84], .malformedPacket),
    BadCase("DISCONNECT property not allowed", .v5, [0xE0, 0x04, 0x00, 0x02, 0x24, 0x01], .malformedPacket),
    BadCase("DISCONNECT trailing byte", .v5, [0xE0, 0x03, 0x00, 0x00, 0x00], .malformedPacket),
    BadCase("AUTH reason 0x87", .v5, [0xF0, 0x02, 0x87, 0x00], .malformedPacket),
    BadCase("AUTH data without method", .v5, [0xF0, 0x06, 0x18, 0x04, 0x16] + bin([1]), .protocolError),
]

let subscribeCases: [BadCase] = [
    BadCase("SUBSCRIBE identifier 0", .v311, packet(0x82, [0x00, 0x00] + s("a") + [0x00]), .protocolError),
    BadCase("SUBSCRIBE without filters", .v311, [0x82, 0x02, 0x00, 0x01], .protocolError),
    BadCase("SUBSCRIBE without filters", .v5, [0x82, 0x03, 0x00, 0x01, 0x00], .protocolError),
    BadCase("SUBSCRIBE missing options", .v311, packet(0x82, [0x00, 0x01] + s("a")), .malformedPacket),
    BadCase("SUBSCRIBE options reserved bits", .v311, packet(0x82, [0x00, 0x01] + s("a") + [0x04]), .malformedPacket),
    BadCase("SUBSCRIBE options high bit", .v311, packet(0x82, [0x00, 0x01] + s("a") + [0x80]), .malformedPacket),
    BadCase("SUBSCRIBE QoS 3", .v311, packet(0x82, [0x00, 0x01] + s("a") + [0x03]), .malformedPacket),
    BadCase("SUBSCRIBE options reserved bits", .v31, packet(0x82, [0x00, 0x01] + s("a") + [0x04]), .malformedPacket),
    BadCase(
        "SUBSCRIBE options reserved bits", .v5, packet(0x82, [0x00, 0x01, 0x00] + s("a") + [0x40]), .malformedPacket),
    BadCase("SUBSCRIBE options bit 7", .v5, packet(0x82, [0x00, 0x01, 0x00] + s("a") + [0x81]), .malformedPacket),
    BadCase("SUBSCRIBE QoS 3", .v5, packet(0x82, [0x00, 0x01, 0x00] + s("a") + [0x03]), .protocolError),
    BadCase("SUBSCRIBE retain handling 3", .v5, packet(0x82, [0x00, 0x01, 0x00] + s("a") + [0x30]), .protocolError),
    BadCase(
        "no local on shared subscription", .v5, packet(0x82, [0x00, 0x01, 0x00] + s("$share/g/a") + [0x04]),
        .protocolError),
    BadCase("invalid UTF-8 filter", .v311, packet(0x82, [0x00, 0x01, 0x00, 0x01, 0xFF, 0x00]), .malformedPacket),
    BadCase(
        "two subscription identifiers", .v5,
        packet(0x82, [0x00, 0x01, 0x04, 0x0B, 0x01, 0x0B, 0x02] + s("a") + [0x00]), .protocolError),
    BadCase(
        "subscription identifier 0", .v5, packet(0x82, [0x00, 0x01, 0x02, 0x0B, 0x00] + s("a") + [0x00]), .protocolError
    ),
    BadCase("UNSUBSCRIBE identifier 0", .v311, packet(0xA2, [0x00, 0x00] + s("a")), .protocolError),
    BadCase("UNSUBSCRIBE without filters", .v311, [0xA2, 0x02, 0x00, 0x01], .protocolError),
    BadCase("UNSUBSCRIBE without filters", .v5, [0xA2, 0x03, 0x00, 0x01, 0x00], .protocolError),
    BadCase("UNSUBSCRIBE truncated filter", .v311, packet(0xA2, [0x00, 0x01, 0x00, 0x03, 0x61]), .malformedPacket),
    BadCase(
        "UNSUBSCRIBE subscription identifier", .v5, packet(0xA2, [0x00, 0x01, 0x02, 0x0B, 0x01] + s("a")),
        .malformedPacket),
]

let connectCases: [BadCase] = [
    BadCase(
        "MQIsdp level 4", .v311, packet(0x10, connectHeader(level: 4, flags: 0x02, name: "MQIsdp") + s("c")),
        .unsupportedProtocolVersion),
    BadCase(
        "MQIsdp level 5", .v5, packet(0x10, connectHeader(level: 5, flags: 0x02, name: "MQIsdp") + s("c")),
        .unsupportedProtocolVersion),
    BadCase(
        "MQIsdp level 0x83 (bridge bit)", .v311,
        packet(0x10, connectHeader(level: 0x83, flags: 0x02, name: "MQIsdp") + s("c")), .unsupportedProtocolVersion),
    BadCase(
        "MQTT level 3", .v311, packet(0x10, connectHeader(level: 3, flags: 0x02) + s("c")), .unsupportedProtocolVersion),
    BadCase(
        "MQTT level 6", .v5, packet(0x10, connectHeader(level: 6, flags: 0x02) + s("c")), .unsupportedProtocolVersion),
    BadCase(
        "MQTT level 0x84 (bridge bit)", .v311, packet(0x10, connectHeader(level: 0x84, flags: 0x02) + s("c")),
        .unsupportedProtocolVersion),
    BadCase(
        "unknown protocol name", .v311, packet(0x10, connectHeader(flags: 0x02, name: "MQTX") + s("c")),
        .unsupportedProtocolVersion),
    BadCase(
        "lower-case protocol name", .v311, packet(0x10, connectHeader(flags: 0x02, name: "mqtt") + s("c")),
        .unsupportedProtocolVersion),
    BadCase("protocol name longer than packet", .v311, [0x10, 0x05, 0x00, 0x04, 0x4D, 0x51, 0x54], .malformedPacket),
    BadCase("protocol level missing", .v311, packet(0x10, s("MQTT")), .malformedPacket),
    BadCase("reserved connect flag", .v311, packet(0x10, connectHeader(flags: 0x03) + s("c")), .malformedPacket),
    BadCase(
        "reserved connect flag", .v5, packet(0x10, connectHeader(level: 5, flags: 0x01) + [0x00] + s("c")),
        .malformedPacket),
    BadCase("will QoS without will", .v311, packet(0x10, connectHeader(flags: 0x0A) + s("c")), .malformedPacket),
    BadCase(
        "will retain without will", .v5, packet(0x10, connectHeader(level: 5, flags: 0x22) + [0x00] + s("c")),
        .malformedPacket),
    BadCase("will QoS 3", .v311, packet(0x10, connectHeader(flags: 0x1E) + s("c") + s("w") + s("p")), .malformedPacket),
    BadCase(
        "password without user name", .v311, packet(0x10, connectHeader(flags: 0x42) + s("c") + bin([1])),
        .malformedPacket),
    BadCase(
        "password without user name", .v31,
        packet(0x10, connectHeader(level: 3, flags: 0x42, name: "MQIsdp") + s("c") + bin([1])), .malformedPacket),
    BadCase(
        "will QoS 3 without will", .v31, packet(0x10, connectHeader(level: 3, flags: 0x1A, name: "MQIsdp") + s("c")),
        .malformedPacket),
    BadCase(
        "user name truncated", .v31,
        packet(0x10, connectHeader(level: 3, flags: 0x82, name: "MQIsdp") + s("c") + [0x00, 0x05, 0x75]),
        .malformedPacket),
    BadCase("keep alive truncated", .v311, packet(0x10, s("MQTT") + [0x04, 0x02, 0x00]), .malformedPacket),
    BadCase("client identifier missing", .v311, packet(0x10, connectHeader(flags: 0x02)), .malformedPacket),
    BadCase(
        "client identifier with U+0000", .v311, packet(0x10, connectHeader(flags: 0x02) + [0x00, 0x01, 0x00]),
        .malformedPacket),
    BadCase("will topic missing", .v311, packet(0x10, connectHeader(flags: 0x06) + s("c")), .malformedPacket),
    BadCase(
        "will payload truncated", .v311,
        packet(0x10, connectHeader(flags: 0x06) + s("c") + s("w") + [0x00, 0x05, 0x01]), .malformedPacket),
    BadCase(
        "will topic with wildcard", .v311, packet(0x10, connectHeader(flags: 0x06) + s("c") + s("w/#") + s("p")),
        .topicNameInvalid),
    BadCase(
        "empty will topic", .v5,
        packet(0x10, connectHeader(level: 5, flags: 0x06) + [0x00] + s("c") + [0x00] + s("") + s("p")),
        .topicNameInvalid),
    BadCase("user name missing", .v311, packet(0x10, connectHeader(flags: 0x82) + s("c")), .malformedPacket),
    BadCase(
        "password missing", .v5, packet(0x10, connectHeader(level: 5, flags: 0xC2) + [0x00] + s("c") + s("u")),
        .malformedPacket),
    BadCase("trailing byte", .v311, packet(0x10, connectHeader(flags: 0x02) + s("c") + [0x00]), .malformedPacket),
    BadCase(
        "trailing byte", .v5, packet(0x10, connectHeader(level: 5, flags: 0x02) + [0x00] + s("c") + [0x00]),
        .malformedPacket),
    BadCase("properties missing", .v5, packet(0x10, connectHeader(level: 5, flags: 0x02)), .malformedPacket),
    BadCase(
        "will properties not allowed", .v5,
        packet(
            0x10, connectHeader(level: 5, flags: 0x06) + [0x00] + s("c") + [0x03, 0x23, 0x00, 0x01] + s("w") + s("p")),
        .malformedPacket),
    BadCase(
        "connect property in will", .v5,
        packet(
            0x10,
            connectHeader(level: 5, flags: 0x06) + [0x00] + s("c") + [0x05, 0x11, 0x00, 0x00, 0x00, 0x01] + s("w")
                + s("p")), .malformedPacket),
    BadCase(
        "will property in connect", .v5,
        packet(0x10, connectHeader(level: 5, flags: 0x02) + [0x05, 0x18, 0x00, 0x00, 0x00, 0x01] + s("c")),
        .malformedPacket),
]

@Suite struct MalformedPacketTests {
    @Test(arguments: fixedHeaderCases + publishCases)
    func fixedHeaderAndPublish(_ bad: BadCase) {
        expectRefused(bad)
    }

    @Test(arguments: acknowledgmentCases)
    func acknowledgments(_ bad: BadCase) {
        expectRefused(bad)
    }

    @Test(arguments: subscribeCases)
    func subscriptions(_ bad: BadCase) {
        expectRefused(bad)
    }

    @Test(arguments: connectCases)
    func connect(_ bad: BadCase) {
        expectRefused(bad)
    }

    private func expectRefused(_ bad: BadCase) {
        let error = decodeError(bad.bytes, bad.version)
        #expect(error?.reasonCode == bad.reason, "\(error?.description ?? "decoded without error")")
    }

    @Test func passwordWithoutUserNameIsAllowedInMQTT5() throws {
        let bytes = packet(0x10, connectHeader(level: 5, flags: 0x42) + [0x00] + s("c") + bin([1, 2]))
        let decoded = try decodeOne(bytes, .v311)
        guard case .connect(let connect) = decoded else {
            Issue.record("expected CONNECT")
            return
        }
        #expect(connect.username == nil)
        #expect(connect.password == [1, 2])
    }

    @Test func failedConnectReportsItsDeclaredVersion() {
        let v5 = packet(0x10, connectHeader(level: 5, flags: 0x01) + [0x00] + s("c"))
        #expect(decodeError(v5, .v311)?.protocolVersion == .v5)
        let v311 = packet(0x10, connectHeader(flags: 0x42) + s("c") + bin([1]))
        #expect(decodeError(v311, .v5)?.protocolVersion == .v311)
        let v31 = packet(0x10, connectHeader(level: 3, flags: 0x1E, name: "MQIsdp") + s("c") + s("w") + s("p"))
        #expect(decodeError(v31, .v311)?.protocolVersion == .v31)
        let unsupported = packet(0x10, connectHeader(level: 4, flags: 0x02, name: "MQIsdp") + s("c"))
        #expect(decodeError(unsupported, .v5)?.protocolVersion == nil)
        #expect(decodeError([0x40, 0x02, 0x00, 0x00], .v5)?.protocolVersion == nil)
    }

    @Test func neverReadsIntoTheNextPacket() {
        // The topic claims 5 bytes but the packet has 1; the next packet's bytes must not be used.
        let bytes: [UInt8] = [0x30, 0x03, 0x00, 0x05, 0x61] + [0x62, 0x63, 0x64, 0x65, 0xC0, 0x00]
        #expect(decodeError(bytes, .v311)?.reasonCode == .malformedPacket)
        let props: [UInt8] = [0x40, 0x04, 0x00, 0x01, 0x00, 0x04] + [0x1F, 0x00, 0x01, 0x61]
        #expect(decodeError(props, .v5)?.reasonCode == .malformedPacket)
    }

    @Test func invalidFirstBytesFailWithoutWaitingForTheBody() {
        #expect(decodeError([0x00], .v311)?.reasonCode == .malformedPacket)
        #expect(decodeError([0x60], .v5)?.reasonCode == .malformedPacket)
        #expect(decodeError([0x30, 0xFF, 0xFF, 0xFF, 0xFF], .v5)?.reasonCode == .malformedPacket)
    }

    @Test func packetTooLargeFailsBeforeTheBodyArrives() {
        // 2 + 10 bytes exceeds 11, with only the fixed header present.
        let error = decodeError([0x30, 0x0A], .v5, maxPacketSize: 11)
        #expect(error?.reasonCode == .packetTooLarge)
        // Exactly the limit is accepted (here: needs more data).
        #expect(decodeError([0x30, 0x0A], .v5, maxPacketSize: 12) == nil)
        // The largest possible header against the default limit waits for the body.
        var huge = buffer([0x30, 0xFF, 0xFF, 0xFF, 0x7F])
        #expect(throws: Never.self) {
            let packet = try MQTTPacket.decode(from: &huge, version: .v5, maxPacketSize: MQTTPacket.maximumSize)
            #expect(packet == nil)
        }
        #expect(
            decodeError([0x30, 0xFF, 0xFF, 0xFF, 0x7F], .v5, maxPacketSize: 1 << 20)?.reasonCode == .packetTooLarge)
    }

    @Test func failedDecodeLeavesTheBufferAlone() {
        var input = buffer([0x40, 0x02, 0x00, 0x00])
        #expect(throws: MQTTDecodeError.self) {
            _ = try MQTTPacket.decode(from: &input, version: .v311, maxPacketSize: 100)
        }
        #expect(input.readableBytes == 4)
    }
}
