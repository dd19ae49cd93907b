import NIOCore
import PluginProtocol
import PropertyBased
import Testing
import WharfCore

@Suite struct HostMessageEncoderTests {
    /// Encodes one message; checks it is one line and returns it parsed.
    static func encoded(_ message: HostMessage, sourceLocation: SourceLocation = #_sourceLocation) throws -> PluginJSON
    {
        var buffer = ByteBuffer()
        HostMessageEncoder.encode(message, into: &buffer)
        let bytes = buffer.bytes
        #expect(bytes.last == UInt8(ascii: "\n"), sourceLocation: sourceLocation)
        #expect(bytes.filter { $0 == UInt8(ascii: "\n") }.count == 1, sourceLocation: sourceLocation)
        return try PluginJSON.parse(ByteBuffer(bytes: bytes.dropLast()))
    }

    @Test func initCarriesEveryMember() throws {
        let config = PluginJSON.object([("endpoint", .string("opc.tcp://plc:4840")), ("nodes", .array([.integer(1)]))])
        let message = InitMessage(
            name: "line1", config: config, credit: 4, maxLineBytes: 2048, healthIntervalMilliseconds: 500,
            wharfVersion: "0.2.0")
        let line = HostMessageEncoder.line(.initialize(message))
        #expect(
            line == """
                {"type":"init","protocol":{"min":1,"max":1},"capabilities":["credit","commands","health","log"],\
                "name":"line1","config":{"endpoint":"opc.tcp://plc:4840","nodes":[1]},"credit":4,"max_line_bytes":2048,\
                "health_interval_ms":500,"wharf":{"version":"0.2.0"}}

                """)
    }

    @Test func acksAndNacksEchoTheIDWithItsType() throws {
        #expect(HostMessageEncoder.line(.ack(.string("42"))) == "{\"type\":\"ack\",\"id\":\"42\"}\n")
        #expect(HostMessageEncoder.line(.ack(.number(42))) == "{\"type\":\"ack\",\"id\":42}\n")
        let nack = try Self.encoded(
            .nack(.string("a\"b"), reason: "not-authorized", message: "plugin:x may not publish"))
        #expect(nack["id"] == .string("a\"b"))
        #expect(nack["reason"] == .string("not-authorized"))
        #expect(nack["message"] == .string("plugin:x may not publish"))
        #expect(try Self.encoded(.nack(.number(1 << 53), reason: "invalid", message: ""))["id"] == .integer(1 << 53))
    }

    @Test func healthAndShutdown() {
        #expect(HostMessageEncoder.line(.healthPing) == "{\"type\":\"health\"}\n")
        #expect(
            HostMessageEncoder.line(.shutdown(graceMilliseconds: 5000)) == "{\"type\":\"shutdown\",\"grace_ms\":5000}\n"
        )
    }

    @Test func aCommandWithoutPropertiesHasNoPropertiesMember() throws {
        let line = HostMessageEncoder.line(.command(CommandMessage(topic: "a/b", payload: ByteBuffer(string: "open"))))
        #expect(line == "{\"type\":\"command\",\"topic\":\"a/b\",\"payload\":\"open\",\"qos\":0,\"retain\":false}\n")
    }

    @Test func binaryPayloadsTravelAsBase64() throws {
        let command = CommandMessage(topic: "t", payload: ByteBuffer(bytes: [0xFF, 0x00]), qos: .atLeastOnce)
        let json = try Self.encoded(.command(command))
        #expect(json["payload_base64"] == .string("/wA="))
        #expect(json["payload"] == nil)
    }

    @Test func anyCommandRoundTrips() async {
        let properties = zip(
            TestGen.string(of: 0...10).optional,
            Gen.uint8(in: 0...2),
            Gen.uint32(in: 0...UInt32.max).optional,
            TestGen.string(of: 1...10).optional,
            TestGen.bytes(of: 0...12).optional,
            zip(TestGen.string(of: 0...6), TestGen.string(of: 0...6)).map { UserProperty($0, $1) }.array(of: 0...3)
        ).map { contentType, format, expiry, responseTopic, correlation, users in
            MessageProperties(
                payloadFormatIndicator: format == 2 ? nil : format, messageExpiryInterval: expiry,
                contentType: contentType,
                responseTopic: responseTopic, correlationData: correlation, userProperties: users)
        }
        // Payloads: sometimes text (travels as `payload`), sometimes any bytes.
        let payload = zip(Gen.bool, TestGen.string(of: 0...30), TestGen.bytes(of: 0...30)).map { text, string, bytes in
            text ? Array(string.utf8) : bytes
        }
        let input = zip(TestGen.string(of: 1...30), payload, Gen.uint8(in: 0...2), Gen.bool, properties)
        await propertyCheck(count: 300, input: input) { topic, payload, qos, retain, properties in
            let command = CommandMessage(
                topic: topic, payload: ByteBuffer(bytes: payload), qos: QoS(rawValue: qos) ?? .atMostOnce,
                retain: retain,
                properties: properties)
            let json = (try? Self.encoded(.command(command))) ?? .null
            #expect(json["type"] == .string("command"))
            #expect(json["topic"] == .string(topic))
            #expect(json["qos"] == .integer(Int64(qos)))
            #expect(json["retain"] == .bool(retain))
            if let text = String(validatingUTF8Bytes: payload) {
                #expect(json["payload"] == .string(text))
            } else if case .string(let base64) = json["payload_base64"] {
                #expect(Base64.decode(base64) == payload)
            } else {
                Issue.record("no payload in \(json.jsonText)")
            }
            #expect(Self.properties(json["properties"]) == properties)
        }
    }

    /// The properties of a command as the protocol describes them.
    static func properties(_ json: PluginJSON?) -> MessageProperties {
        var properties = MessageProperties()
        guard let json else { return properties }
        if case .string(let text) = json["content_type"] { properties.contentType = text }
        if case .bool(let flag) = json["payload_format_utf8"] { properties.payloadFormatIndicator = flag ? 1 : 0 }
        if case .integer(let seconds) = json["message_expiry"] {
            properties.messageExpiryInterval = UInt32(exactly: seconds)
        }
        if case .string(let text) = json["response_topic"] { properties.responseTopic = text }
        if case .string(let text) = json["correlation_data_base64"] { properties.correlationData = Base64.decode(text) }
        if case .array(let pairs) = json["user_properties"] {
            properties.userProperties = pairs.compactMap { pair in
                guard case .array(let strings) = pair, strings.count == 2, case .string(let name) = strings[0],
                    case .string(let value) = strings[1]
                else { return nil }
                return UserProperty(name, value)
            }
        }
        return properties
    }

    @Test func anyPublishWrittenAsJSONDecodes() async {
        // The plugin's side: a publish written by any correct JSON writer reads back the same.
        let input = zip(
            TestGen.string(of: 1...20), TestGen.bytes(of: 0...20), Gen.uint8(in: 0...2), Gen.uint64(in: 0...(1 << 53)))
        await propertyCheck(count: 300, input: input) { topic, payload, qos, id in
            let json = PluginJSON.object([
                ("type", .string("publish")), ("id", .integer(Int64(id))), ("topic", .string(topic)),
                ("payload_base64", .string(Base64.encode(payload))), ("qos", .integer(Int64(qos))),
            ])
            guard let publish = publish(json.jsonText) else { return }
            #expect(publish.id == .number(id))
            #expect(publish.topic == topic)
            #expect(publish.payload.bytes == payload)
            #expect(publish.qos.rawValue == qos)
        }
    }
}

extension String {
    /// The bytes as a String when they are valid UTF-8.
    init?(validatingUTF8Bytes bytes: [UInt8]) {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var scalars = String.UnicodeScalarView()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): scalars.append(scalar)
            case .emptyInput:
                self = String(scalars)
                return
            case .error: return nil
            }
        }
    }
}
