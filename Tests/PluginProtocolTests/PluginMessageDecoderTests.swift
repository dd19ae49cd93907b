import NIOCore
import PluginProtocol
import Testing
import WharfCore

@Suite struct PluginMessageDecoderTests {
    @Test func ready() throws {
        let line = """
            {"type":"ready","protocol":1,"name":"wharf-opcua","version":"1.0.0","capabilities":["credit","commands","health","log","future"],"subscriptions":[{"filter":"devices/line1/+/set","qos":1},{"filter":"a/#"}],"extra":{"ignored":[1,2]}}
            """
        guard case .success(.ready(let ready)) = decode(line) else {
            Issue.record("no ready from \(line)")
            return
        }
        #expect(ready.protocolVersion == 1)
        #expect(ready.name == "wharf-opcua")
        #expect(ready.version == "1.0.0")
        #expect(ready.capabilities == ["credit", "commands", "health", "log", "future"])
        #expect(
            ready.subscriptions == [
                SubscriptionRequest(filter: "devices/line1/+/set", qos: .atLeastOnce),
                SubscriptionRequest(filter: "a/#", qos: .atMostOnce),
            ])
    }

    @Test func readyWithoutOptionalMembers() {
        guard case .success(.ready(let ready)) = decode(#"{"type":"ready","protocol":2,"name":"n","version":"v"}"#)
        else {
            Issue.record("no ready")
            return
        }
        #expect(ready.protocolVersion == 2)
        #expect(ready.capabilities.isEmpty && ready.subscriptions.isEmpty)
    }

    @Test func publishWithEveryMember() {
        let line = """
            {"type":"publish","id":"42","topic":"devices/line1/temp","payload":"21.5 \\u00b0C","qos":1,"retain":true,\
            "properties":{"content_type":"text/plain","payload_format_utf8":true,"message_expiry":60,\
            "response_topic":"r/1","correlation_data_base64":"AAE=","user_properties":[["unit","C"],["unit","K"]],"future":1}}
            """
        guard let publish = publish(line) else { return }
        #expect(publish.id == .string("42"))
        #expect(publish.topic == "devices/line1/temp")
        #expect(String(buffer: publish.payload) == "21.5 °C")
        #expect(publish.qos == .atLeastOnce)
        #expect(publish.retain)
        #expect(
            publish.properties
                == MessageProperties(
                    payloadFormatIndicator: 1,
                    messageExpiryInterval: 60,
                    contentType: "text/plain",
                    responseTopic: "r/1",
                    correlationData: [0, 1],
                    userProperties: [UserProperty("unit", "C"), UserProperty("unit", "K")]
                ))
    }

    /// An empty topic is a string: the router refuses it as `topic-invalid`, as it would an
    /// MQTT client's, rather than the codec calling the line malformed.
    @Test func emptyTopicIsLeftToTheRouter() {
        guard let publish = publish(#"{"type":"publish","id":"e","topic":"","qos":1}"#) else { return }
        #expect(publish.topic.isEmpty && publish.id == .string("e"))
    }

    /// Keys are matched on their bytes when they have no escape, and through their decoded text
    /// when they have one: both spellings of a member name mean the same member.
    @Test func escapedAndPlainKeysAreTheSame() {
        guard let plain = publish(#"{"type":"publish","topic":"t","qos":0,"payload":"p"}"#),
            let escaped = publish(#"{"\u0074ype":"publish","t\u006fpic":"t","qos":0,"p\u0061yload":"p"}"#)
        else { return }
        #expect(plain.topic == escaped.topic && plain.payload == escaped.payload)
        #expect(failure(#"{"typ":"publish","topic":"t"}"#)?.kind == .missingType)
        #expect(failure(#"{"types":"publish","topic":"t"}"#)?.kind == .missingType)
    }

    @Test func publishDefaults() {
        guard let publish = publish(#"{"topic":"a/b","type":"publish"}"#) else { return }
        #expect(publish.id == nil)
        #expect(publish.qos == .atMostOnce)
        #expect(!publish.retain)
        #expect(publish.payload.readableBytes == 0)
        #expect(publish.properties == MessageProperties())
    }

    @Test func publishWithBase64PayloadAndNumericID() {
        guard let publish = publish(#"{"type":"publish","id":7,"topic":"t","payload_base64":"AP8A","qos":2}"#)
        else { return }
        #expect(publish.id == .number(7))
        #expect(publish.payload.bytes == [0x00, 0xFF, 0x00])
        #expect(publish.qos == .exactlyOnce)
    }

    @Test func payloadFormatFalseIsIndicatorZero() {
        let line = #"{"type":"publish","topic":"t","properties":{"payload_format_utf8":false}}"#
        #expect(publish(line)?.properties.payloadFormatIndicator == 0)
    }

    @Test func nullMembersCountAsAbsent() {
        let line = #"{"type":"publish","topic":"t","payload":null,"payload_base64":"eA==","id":null,"properties":null}"#
        #expect(publish(line)?.payload.bytes == Array("x".utf8))
    }

    @Test func theLastOfARepeatedMemberWins() {
        let line = #"{"type":"publish","topic":"first","topic":"second","qos":5,"qos":0}"#
        #expect(publish(line)?.topic == "second")
    }

    @Test func health() {
        guard
            case .success(.health(let report)) = decode(
                #"{"type":"health","status":"degraded","message":"PLC 2 down"}"#)
        else {
            Issue.record("no health")
            return
        }
        #expect(report == HealthReport(status: .degraded, message: "PLC 2 down"))
        guard case .success(.health(let quiet)) = decode(#"{"type":"health","status":"healthy","message":""}"#) else {
            Issue.record("no health")
            return
        }
        #expect(quiet == HealthReport(status: .healthy, message: nil))
    }

    @Test func log() {
        let line = #"{"type":"log","level":"warning","message":"slow","fields":{"device":"plc1","ms":250,"ok":true}}"#
        guard case .success(.log(let record)) = decode(line) else {
            Issue.record("no log")
            return
        }
        #expect(record.level == .warning)
        #expect(record.message == "slow")
        #expect(record.fields.map(\.key) == ["device", "ms", "ok"])
        #expect(record.fields.map(\.value) == ["plc1", "250", "true"])
        guard case .success(.log(let other)) = decode(#"{"type":"log","level":"shouting","message":"x"}"#) else {
            Issue.record("no log")
            return
        }
        #expect(other.level == .info)
    }

    // MARK: Failures, one per kind

    @Test func failureKinds() {
        #expect(PluginMessageDecoder.decode(ByteBuffer(bytes: [0x7B, 0xC0, 0x80, 0x7D])).failureKind == .invalidUTF8)
        #expect(failure("this is not json")?.kind == .invalidJSON)
        #expect(failure(#"{"type":"publish""#)?.kind == .invalidJSON)
        #expect(failure("")?.kind == .invalidJSON)
        #expect(failure(#"{"type":"log","message":"x"} trailing"#)?.kind == .invalidJSON)
        #expect(failure("[1,2,3]")?.kind == .notAnObject)
        #expect(failure("42")?.kind == .notAnObject)
        #expect(failure(#""text""#)?.kind == .notAnObject)
        #expect(failure(#"{"topic":"no/type"}"#)?.kind == .missingType)
        #expect(failure(#"{"type":7}"#)?.kind == .missingType)
        #expect(failure(#"{"type":"teleport"}"#)?.kind == .unknownType)
        #expect(failure(#"{"type":"ack","id":"1"}"#)?.kind == .unknownType)
        #expect(failure(#"{"type":"publish"}"#)?.kind == .invalid)
    }

    @Test func theIDOfAFailedObjectIsKeptWithItsType() {
        let unknown = failure(#"{"type":"teleport","id":"abc"}"#)
        #expect(unknown?.id == .string("abc"))
        #expect(unknown?.nackReason == "unknown-type")
        let numbered = failure(#"{"type":"publish","id":9007199254740992,"topic":"t","qos":3}"#)
        #expect(numbered?.id == .number(9_007_199_254_740_992))
        #expect(numbered?.nackReason == "invalid")
        #expect(numbered?.detail == "publish: 'qos' must be 0, 1 or 2")
        #expect(failure(#"{"id":5}"#)?.id == .number(5))
        #expect(failure(#"{"type":"teleport","id":"abc""#)?.id == nil)
    }

    @Test(arguments: [
        (#"{"type":"publish","topic":"t","qos":1}"#, "'id' is required"),
        (#"{"type":"publish","topic":"t","qos":2}"#, "'id' is required"),
        (#"{"type":"publish","id":"x","qos":1}"#, "'topic'"),
        (#"{"type":"publish","id":"x","topic":5}"#, "'topic'"),
        (#"{"type":"publish","id":"x","topic":"t","qos":3}"#, "'qos'"),
        (#"{"type":"publish","id":"x","topic":"t","qos":1.0}"#, "'qos'"),
        (#"{"type":"publish","id":"x","topic":"t","qos":-1}"#, "'qos'"),
        (#"{"type":"publish","id":"x","topic":"t","qos":"1"}"#, "'qos'"),
        (#"{"type":"publish","id":"x","topic":"t","retain":1}"#, "'retain'"),
        (#"{"type":"publish","id":"x","topic":"t","payload":"a","payload_base64":"YQ=="}"#, "'payload'"),
        (#"{"type":"publish","id":"x","topic":"t","payload":5}"#, "'payload'"),
        (#"{"type":"publish","id":"x","topic":"t","payload_base64":"!!!"}"#, "'payload_base64'"),
        (#"{"type":"publish","id":"x","topic":"t","payload_base64":"YQ="}"#, "'payload_base64'"),
        (#"{"type":"publish","id":"x","topic":"t","properties":[]}"#, "'properties'"),
        (#"{"type":"publish","id":"x","topic":"t","properties":{"message_expiry":4294967296}}"#, "message_expiry"),
        (#"{"type":"publish","id":"x","topic":"t","properties":{"message_expiry":-1}}"#, "message_expiry"),
        (#"{"type":"publish","id":"x","topic":"t","properties":{"payload_format_utf8":1}}"#, "payload_format_utf8"),
        (#"{"type":"publish","id":"x","topic":"t","properties":{"correlation_data_base64":"%"}}"#, "correlation"),
        (#"{"type":"publish","id":"x","topic":"t","properties":{"user_properties":[["a"]]}}"#, "user_properties"),
        (#"{"type":"publish","id":"x","topic":"t","properties":{"user_properties":[["a",1]]}}"#, "user_properties"),
        (#"{"type":"publish","id":"x","topic":"t","properties":{"user_properties":{"a":"b"}}}"#, "user_properties"),
        (#"{"type":"publish","id":"x","topic":"t","properties":{"content_type":5}}"#, "content_type"),
        (#"{"type":"publish","id":"x","topic":"t","properties":{"response_topic":""}}"#, "response_topic"),
        (#"{"type":"ready","name":"n","version":"v"}"#, "'protocol'"),
        (#"{"type":"ready","protocol":"1","name":"n","version":"v"}"#, "'protocol'"),
        (#"{"type":"ready","protocol":1.5,"name":"n","version":"v"}"#, "'protocol'"),
        (#"{"type":"ready","protocol":1,"version":"v"}"#, "'name'"),
        (#"{"type":"ready","protocol":1,"name":"n"}"#, "'version'"),
        (#"{"type":"ready","protocol":1,"name":"n","version":"v","capabilities":[1]}"#, "'capabilities'"),
        (#"{"type":"ready","protocol":1,"name":"n","version":"v","subscriptions":["a/#"]}"#, "'subscriptions'"),
        (#"{"type":"ready","protocol":1,"name":"n","version":"v","subscriptions":[{"qos":1}]}"#, "'filter'"),
        (#"{"type":"ready","protocol":1,"name":"n","version":"v","subscriptions":[{"filter":"a","qos":3}]}"#, "'qos'"),
        (#"{"type":"health"}"#, "'status'"),
        (#"{"type":"health","status":"fine"}"#, "'status'"),
        (#"{"type":"health","status":"healthy","message":5}"#, "'message'"),
        (#"{"type":"log","level":"info"}"#, "'message'"),
        (#"{"type":"log","level":3,"message":"x"}"#, "'level'"),
        (#"{"type":"log","message":"x","fields":[]}"#, "'fields'"),
    ])
    func invalidMessagesNameTheirMember(line: String, member: String) {
        let failure = failure(line)
        #expect(failure?.kind == .invalid)
        #expect(failure?.detail.contains(member) == true, "\(failure?.detail ?? "") should name \(member)")
    }

    @Test(arguments: [
        (#""abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcde""#, false),  // 65 bytes
        (#""abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd""#, true),  // 64 bytes
        ("9007199254740993", false),
        ("9007199254740992", true),
        ("0", true),
        ("-1", false),
        ("1.5", false),
        ("1e2", false),
        ("true", false),
        ("18446744073709551616", false),
    ])
    func idLimits(id: String, valid: Bool) {
        let result = decode(#"{"type":"publish","topic":"t","qos":1,"id":\#(id)}"#)
        switch result {
        case .success: #expect(valid)
        case .failure(let failure):
            #expect(!valid)
            #expect(failure.kind == .invalid && failure.id == nil && failure.detail.contains("'id'"))
        }
    }

    @Test func escapesInKeysAndStringsAreResolved() {
        let line = #"{"\u0074ype":"publish","topic":"a\/b\u00e9\ud83d\ude00\n\"\\","payload":"\t\u0000"}"#
        guard let publish = publish(line) else { return }
        #expect(publish.topic == "a/bé😀\n\"\\")
        #expect(publish.payload.bytes == [0x09, 0x00])
    }
}

extension Result where Success == PluginMessage, Failure == DecodeFailure {
    /// The failure's kind, or nil on success.
    var failureKind: DecodeFailure.Kind? {
        if case .failure(let failure) = self { return failure.kind }
        return nil
    }
}
