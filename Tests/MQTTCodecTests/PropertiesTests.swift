import MQTTCodec
import NIOCore
import Testing
import WharfCore

/// The places a property list can appear, each with a packet builder around the property bytes.
enum PropertyPlace: String, CaseIterable, Sendable {
    case connect, will, connAck, publish, pubAck, pubRec, pubRel, pubComp, subscribe, subAck, unsubscribe, unsubAck
    case disconnect, auth

    /// A complete, otherwise valid MQTT 5 packet carrying `properties` (without their length).
    func packet(_ properties: [UInt8]) -> [UInt8] {
        let list = [UInt8(properties.count)] + properties
        switch self {
        case .connect: return wrap(0x10, s("MQTT") + [0x05, 0x02, 0x00, 0x00] + list + s("c"))
        case .will: return wrap(0x10, s("MQTT") + [0x05, 0x06, 0x00, 0x00, 0x00] + s("c") + list + s("w") + s("p"))
        case .connAck: return wrap(0x20, [0x00, 0x00] + list)
        case .publish: return wrap(0x30, s("t") + list + utf8("payload"))
        case .pubAck: return wrap(0x40, [0x00, 0x01, 0x00] + list)
        case .pubRec: return wrap(0x50, [0x00, 0x01, 0x00] + list)
        case .pubRel: return wrap(0x62, [0x00, 0x01, 0x00] + list)
        case .pubComp: return wrap(0x70, [0x00, 0x01, 0x00] + list)
        case .subscribe: return wrap(0x82, [0x00, 0x01] + list + s("a") + [0x00])
        case .subAck: return wrap(0x90, [0x00, 0x01] + list + [0x00])
        case .unsubscribe: return wrap(0xA2, [0x00, 0x01] + list + s("a"))
        case .unsubAck: return wrap(0xB0, [0x00, 0x01] + list + [0x00])
        case .disconnect: return wrap(0xE0, [0x00] + list)
        case .auth: return wrap(0xF0, [0x18] + list)
        }
    }

    private func wrap(_ first: UInt8, _ body: [UInt8]) -> [UInt8] {
        precondition(body.count < 128)
        return [first, UInt8(body.count)] + body
    }
}

/// The MQTT 5.0 property table (section 2.2.2.2): identifier, a valid encoding, where it may appear.
struct PropertySpec: Sendable, CustomTestStringConvertible {
    var identifier: UInt8
    var sample: [UInt8]
    var places: Set<PropertyPlace>
    var testDescription: String { "property 0x" + String(identifier, radix: 16) }
}

private let acks: Set<PropertyPlace> = [.pubAck, .pubRec, .pubRel, .pubComp]
private let message: Set<PropertyPlace> = [.publish, .will]

let propertySpecs: [PropertySpec] = [
    PropertySpec(identifier: 0x01, sample: [0x01, 0x01], places: message),
    PropertySpec(identifier: 0x02, sample: [0x02, 0, 0, 0, 9], places: message),
    PropertySpec(identifier: 0x03, sample: [0x03] + s("text/plain"), places: message),
    PropertySpec(identifier: 0x08, sample: [0x08] + s("reply/here"), places: message),
    PropertySpec(identifier: 0x09, sample: [0x09] + bin([1, 2]), places: message),
    PropertySpec(identifier: 0x0B, sample: [0x0B, 0x81, 0x01], places: [.publish, .subscribe]),
    PropertySpec(identifier: 0x11, sample: [0x11, 0, 0, 0, 9], places: [.connect, .connAck, .disconnect]),
    PropertySpec(identifier: 0x12, sample: [0x12] + s("id"), places: [.connAck]),
    PropertySpec(identifier: 0x13, sample: [0x13, 0, 9], places: [.connAck]),
    PropertySpec(identifier: 0x15, sample: [0x15] + s("m"), places: [.connect, .connAck, .auth]),
    // Authentication data needs a method alongside.
    PropertySpec(identifier: 0x16, sample: [0x15] + s("m") + [0x16] + bin([3]), places: [.connect, .connAck, .auth]),
    PropertySpec(identifier: 0x17, sample: [0x17, 0x00], places: [.connect]),
    PropertySpec(identifier: 0x18, sample: [0x18, 0, 0, 0, 9], places: [.will]),
    PropertySpec(identifier: 0x19, sample: [0x19, 0x01], places: [.connect]),
    PropertySpec(identifier: 0x1A, sample: [0x1A] + s("r"), places: [.connAck]),
    PropertySpec(identifier: 0x1C, sample: [0x1C] + s("other"), places: [.connAck, .disconnect]),
    PropertySpec(
        identifier: 0x1F,
        sample: [0x1F] + s("why"),
        places: acks.union([.connAck, .subAck, .unsubAck, .disconnect, .auth])
    ),
    PropertySpec(identifier: 0x21, sample: [0x21, 0, 9], places: [.connect, .connAck]),
    PropertySpec(identifier: 0x22, sample: [0x22, 0, 9], places: [.connect, .connAck]),
    PropertySpec(identifier: 0x23, sample: [0x23, 0, 9], places: [.publish]),
    PropertySpec(identifier: 0x24, sample: [0x24, 0x01], places: [.connAck]),
    PropertySpec(identifier: 0x25, sample: [0x25, 0x00], places: [.connAck]),
    PropertySpec(identifier: 0x26, sample: [0x26] + s("k") + s("v"), places: Set(PropertyPlace.allCases)),
    PropertySpec(identifier: 0x27, sample: [0x27, 0, 0, 1, 0], places: [.connect, .connAck]),
    PropertySpec(identifier: 0x28, sample: [0x28, 0x01], places: [.connAck]),
    PropertySpec(identifier: 0x29, sample: [0x29, 0x00], places: [.connAck]),
    PropertySpec(identifier: 0x2A, sample: [0x2A, 0x01], places: [.connAck]),
]

@Suite struct PropertiesTests {
    @Test(arguments: propertySpecs)
    func allowedExactlyWhereTheSpecificationSays(_ spec: PropertySpec) throws {
        for place in PropertyPlace.allCases {
            let bytes = place.packet(spec.sample)
            if spec.places.contains(place) {
                #expect(throws: Never.self, "\(place)") { _ = try decodeOne(bytes, .v5) }
                let packet = try #require(try decodeOne(bytes, .v5))
                #expect(try encoded(packet, .v5) == bytes, "\(place)")
            } else {
                #expect(decodeError(bytes, .v5)?.reasonCode == .malformedPacket, "\(place)")
            }
        }
    }

    @Test(arguments: propertySpecs)
    func repeatingIsAProtocolErrorExceptForUserPropertiesAndPublishSubscriptionIdentifiers(_ spec: PropertySpec) {
        for place in spec.places {
            let bytes = place.packet(spec.sample + spec.sample)
            let repeatable = spec.identifier == 0x26 || (spec.identifier == 0x0B && place == .publish)
            if repeatable {
                #expect(decodeError(bytes, .v5) == nil, "\(place)")
            } else {
                #expect(decodeError(bytes, .v5)?.reasonCode == .protocolError, "\(place)")
            }
        }
    }

    @Test(arguments: [
        (PropertyPlace.publish, [0x01, 0x02] as [UInt8]),
        (.will, [0x01, 0xFF]),
        (.connect, [0x17, 0x02]),
        (.connect, [0x19, 0x02]),
        (.connAck, [0x24, 0x02]),
        (.connAck, [0x25, 0x02]),
        (.connAck, [0x28, 0x02]),
        (.connAck, [0x29, 0x02]),
        (.connAck, [0x2A, 0x02]),
        (.connect, [0x21, 0x00, 0x00]),
        (.connAck, [0x21, 0x00, 0x00]),
        (.connect, [0x27, 0x00, 0x00, 0x00, 0x00]),
        (.connAck, [0x27, 0x00, 0x00, 0x00, 0x00]),
        (.publish, [0x23, 0x00, 0x00]),
        (.publish, [0x0B, 0x00]),
        (.subscribe, [0x0B, 0x00]),
        (.publish, [0x08] + s("reply/+")),
        (.will, [0x08] + s("#")),
        (.connect, [0x16] + bin([1])),
        (.auth, [0x16] + bin([1])),
    ])
    func outOfRangeValuesAreProtocolErrors(_ place: PropertyPlace, _ property: [UInt8]) {
        #expect(decodeError(place.packet(property), .v5)?.reasonCode == .protocolError)
    }

    @Test(arguments: [
        (PropertyPlace.publish, [0x00] as [UInt8]),
        (.publish, [0x04, 0x01]),
        (.connAck, [0x7F, 0x00]),
        (.connAck, [0x80, 0x01]),
        (.publish, [0x0B, 0x80, 0x00]),
        (.publish, [0x0B, 0xFF, 0xFF, 0xFF, 0xFF]),
        (.publish, [0x02, 0x00, 0x00]),
        (.publish, [0x03, 0x00, 0x05, 0x61]),
        (.publish, [0x03, 0x00, 0x01, 0xFF]),
        (.publish, [0x26, 0x00, 0x01, 0x61]),
        (.disconnect, [0x1F, 0x00, 0x01, 0x00]),
    ])
    func malformedPropertyListsAreMalformedPackets(_ place: PropertyPlace, _ property: [UInt8]) {
        #expect(decodeError(place.packet(property), .v5)?.reasonCode == .malformedPacket)
    }

    @Test func userPropertiesAndSubscriptionIdentifiersKeepTheirOrder() throws {
        let properties: [UInt8] =
            [0x26] + s("b") + s("2") + [0x0B, 0x05] + [0x26] + s("a") + s("1") + [0x26] + s("b")
            + s("3") + [0x0B, 0xFF, 0xFF, 0xFF, 0x7F]
        let decoded = try decodeOne(PropertyPlace.publish.packet(properties), .v5)
        guard case .publish(let publish) = decoded else {
            Issue.record("expected PUBLISH")
            return
        }
        #expect(
            publish.properties.userProperties == [
                UserProperty("b", "2"), UserProperty("a", "1"), UserProperty("b", "3"),
            ]
        )
        #expect(publish.properties.subscriptionIdentifiers == [5, 268_435_455])
    }

    @Test func messagePropertiesBridgeTheSixApplicationProperties() {
        var properties = MQTTProperties(topicAlias: 3, userProperties: [UserProperty("old", "1")])
        #expect(properties.messageProperties == MessageProperties(userProperties: [UserProperty("old", "1")]))
        let message = MessageProperties(
            payloadFormatIndicator: 1,
            messageExpiryInterval: 30,
            contentType: "text/plain",
            responseTopic: "reply",
            correlationData: [1, 2, 3],
            userProperties: [UserProperty("k", "v")]
        )
        properties.messageProperties = message
        #expect(properties.messageProperties == message)
        #expect(properties.topicAlias == 3)
        #expect(properties.userProperties == [UserProperty("k", "v")])
        #expect(MQTTProperties(message).messageProperties == message)
        #expect(MQTTProperties(MessageProperties()).isEmpty)
    }

    @Test func settersAndInitializerAgree() {
        var built = MQTTProperties()
        #expect(built.isEmpty)
        built.contentType = "a"
        built.receiveMaximum = 5
        built.subscriptionIdentifiers.append(7)
        let direct = MQTTProperties(contentType: "a", subscriptionIdentifiers: [7], receiveMaximum: 5)
        #expect(built == direct)
        #expect(built.hashValue == direct.hashValue)
        #expect(!built.isEmpty)
        built.contentType = nil
        built.receiveMaximum = nil
        built.subscriptionIdentifiers = []
        #expect(built.isEmpty)
        #expect(built == MQTTProperties())
    }

    @Test func copiesAreIndependent() {
        let original = MQTTProperties(reasonString: "one")
        var copy = original
        copy.reasonString = "two"
        #expect(original.reasonString == "one")
        #expect(copy.reasonString == "two")
    }
}
