import MQTTCodec
import NIOCore
import WharfCore

/// Builds random packets that are valid for a protocol version, from a seed, for round-trip tests.
struct RandomPacketGenerator {
    var rng: SeededGenerator
    let version: MQTTProtocolVersion

    init(seed: UInt64, version: MQTTProtocolVersion) {
        rng = SeededGenerator(seed: seed)
        self.version = version
    }

    private var isV5: Bool { version == .v5 }

    mutating func bool(_ chance: Double = 0.5) -> Bool { Double.random(in: 0..<1, using: &rng) < chance }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func uint8(_ range: ClosedRange<UInt8> = 0...255) -> UInt8 { UInt8.random(in: range, using: &rng) }
    mutating func uint16(_ range: ClosedRange<UInt16> = 0...UInt16.max) -> UInt16 { .random(in: range, using: &rng) }
    mutating func uint32(_ range: ClosedRange<UInt32> = 0...UInt32.max) -> UInt32 { .random(in: range, using: &rng) }
    mutating func qos() -> QoS { QoS(rawValue: uint8(0...2)) ?? .atMostOnce }
    mutating func identifier() -> UInt16 { uint16(1...UInt16.max) }
    mutating func pick<T>(_ values: [T]) -> T { values[int(0...values.count - 1)] }

    mutating func bytes(_ count: ClosedRange<Int> = 0...40) -> [UInt8] {
        (0..<int(count)).map { _ in uint8() }
    }

    mutating func payload() -> ByteBuffer {
        // Mostly small, sometimes past the one- and two-byte Remaining Length boundaries.
        let size = pick([0, int(1...20), int(100...200), int(16_000...17_000)])
        return ByteBuffer(bytes: (0..<size).map { _ in uint8() })
    }

    /// A string of ASCII, Latin, CJK and astral characters, never U+0000, optionally never a wildcard.
    mutating func string(_ count: ClosedRange<Int> = 0...12, wildcards: Bool = true) -> String {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<int(count) {
            let value: UInt32 =
                switch int(0...5) {
                case 0: uint32(0x01...0x7F)
                case 1: uint32(0x80...0x7FF)
                case 2: uint32(0x4E00...0x9FFF)
                case 3: uint32(0x1F600...0x1F64F)
                default: uint32(0x61...0x7A)
                }
            guard let scalar = Unicode.Scalar(value) else { continue }
            if !wildcards && (scalar == "+" || scalar == "#") { continue }
            scalars.append(scalar)
        }
        return String(scalars)
    }

    mutating func topicName() -> String {
        let topic = string(1...12, wildcards: false)
        return topic.isEmpty ? "t" : topic
    }

    mutating func maybe<T>(_ make: (inout RandomPacketGenerator) -> T) -> T? {
        bool(0.4) ? make(&self) : nil
    }

    mutating func userProperties() -> [UserProperty] {
        (0..<pick([0, 0, 1, 3])).map { _ in UserProperty(string(), string()) }
    }

    mutating func flag() -> UInt8 { uint8(0...1) }

    // MARK: Properties, valid for each place

    mutating func messageProperties(into properties: inout MQTTProperties) {
        properties.payloadFormatIndicator = maybe { $0.flag() }
        properties.messageExpiryInterval = maybe { $0.uint32() }
        properties.contentType = maybe { $0.string() }
        properties.responseTopic = maybe { $0.topicName() }
        properties.correlationData = maybe { $0.bytes() }
        properties.userProperties = userProperties()
    }

    mutating func connectProperties() -> MQTTProperties {
        guard isV5 else { return MQTTProperties() }
        var properties = MQTTProperties()
        properties.sessionExpiryInterval = maybe { $0.uint32() }
        properties.receiveMaximum = maybe { $0.uint16(1...UInt16.max) }
        properties.maximumPacketSize = maybe { $0.uint32(1...UInt32.max) }
        properties.topicAliasMaximum = maybe { $0.uint16() }
        properties.requestResponseInformation = maybe { $0.flag() }
        properties.requestProblemInformation = maybe { $0.flag() }
        properties.authenticationMethod = maybe { $0.string() }
        if properties.authenticationMethod != nil { properties.authenticationData = maybe { $0.bytes() } }
        properties.userProperties = userProperties()
        return properties
    }

    mutating func willProperties() -> MQTTProperties {
        guard isV5 else { return MQTTProperties() }
        var properties = MQTTProperties()
        messageProperties(into: &properties)
        properties.willDelayInterval = maybe { $0.uint32() }
        return properties
    }

    mutating func connAckProperties() -> MQTTProperties {
        guard isV5 else { return MQTTProperties() }
        var properties = MQTTProperties()
        properties.sessionExpiryInterval = maybe { $0.uint32() }
        properties.receiveMaximum = maybe { $0.uint16(1...UInt16.max) }
        properties.maximumQoS = maybe { $0.flag() }
        properties.retainAvailable = maybe { $0.flag() }
        properties.maximumPacketSize = maybe { $0.uint32(1...UInt32.max) }
        properties.assignedClientIdentifier = maybe { $0.string() }
        properties.topicAliasMaximum = maybe { $0.uint16() }
        properties.reasonString = maybe { $0.string() }
        properties.wildcardSubscriptionAvailable = maybe { $0.flag() }
        properties.subscriptionIdentifiersAvailable = maybe { $0.flag() }
        properties.sharedSubscriptionAvailable = maybe { $0.flag() }
        properties.serverKeepAlive = maybe { $0.uint16() }
        properties.responseInformation = maybe { $0.string() }
        properties.serverReference = maybe { $0.string() }
        properties.authenticationMethod = maybe { $0.string() }
        if properties.authenticationMethod != nil { properties.authenticationData = maybe { $0.bytes() } }
        properties.userProperties = userProperties()
        return properties
    }

    mutating func reasonProperties() -> MQTTProperties {
        guard isV5 else { return MQTTProperties() }
        return MQTTProperties(reasonString: maybe { $0.string() }, userProperties: userProperties())
    }

    // MARK: Packets

    mutating func packet() -> MQTTPacket {
        let types = MQTTPacketType.allCases.filter { isV5 || $0 != .auth }
        return packet(of: pick(types))
    }

    mutating func packet(of type: MQTTPacketType) -> MQTTPacket {
        switch type {
        case .connect: return .connect(connect())
        case .connAck: return .connAck(connAck())
        case .publish: return .publish(publish())
        case .pubAck: return .pubAck(acknowledgment(pick(ReasonCode.allCases.filter(\.isPubAckCode))))
        case .pubRec: return .pubRec(acknowledgment(pick(ReasonCode.allCases.filter(\.isPubAckCode))))
        case .pubRel: return .pubRel(acknowledgment(pick([.success, .packetIdentifierNotFound])))
        case .pubComp: return .pubComp(acknowledgment(pick([.success, .packetIdentifierNotFound])))
        case .subscribe: return .subscribe(subscribe())
        case .subAck: return .subAck(subAck())
        case .unsubscribe:
            let filters = (0..<int(1...4)).map { _ in string() }
            let properties = isV5 ? MQTTProperties(userProperties: userProperties()) : MQTTProperties()
            return .unsubscribe(
                UnsubscribePacket(packetIdentifier: identifier(), topicFilters: filters, properties: properties))
        case .unsubAck:
            guard isV5 else { return .unsubAck(UnsubAckPacket(packetIdentifier: identifier())) }
            let codes: [ReasonCode] = [
                .success, .noSubscriptionExisted, .unspecifiedError, .implementationSpecificError, .notAuthorized,
                .topicFilterInvalid, .packetIdentifierInUse,
            ]
            let reasons = (0..<int(1...4)).map { _ in pick(codes) }
            return .unsubAck(
                UnsubAckPacket(packetIdentifier: identifier(), reasonCodes: reasons, properties: reasonProperties()))
        case .pingReq: return .pingReq
        case .pingResp: return .pingResp
        case .disconnect: return .disconnect(disconnect())
        case .auth:
            var properties = reasonProperties()
            properties.authenticationMethod = maybe { $0.string() }
            if properties.authenticationMethod != nil { properties.authenticationData = maybe { $0.bytes() } }
            let reason = pick([ReasonCode.success, .continueAuthentication, .reAuthenticate])
            return .auth(AuthPacket(reasonCode: reason, properties: properties))
        }
    }

    mutating func connect() -> ConnectPacket {
        let will: Will? =
            bool()
            ? Will(
                topic: topicName(), payload: ByteBuffer(bytes: bytes()), qos: qos(), retain: bool(),
                properties: willProperties())
            : nil
        let username = maybe { $0.string() }
        // 3.1 and 3.1.1 forbid a password without a user name.
        let password = username != nil || isV5 ? maybe { $0.bytes() } : nil
        return ConnectPacket(
            protocolVersion: version,
            clientIdentifier: string(0...23),
            cleanStart: bool(),
            keepAlive: uint16(),
            username: username,
            password: password,
            will: will,
            properties: connectProperties()
        )
    }

    mutating func connAck() -> ConnAckPacket {
        let code: UInt8
        if isV5 {
            let codes = ReasonCode.allCases.map(\.rawValue).filter {
                $0 == 0
                    || ($0 >= 0x80
                        && ![0x8B, 0x8D, 0x8E, 0x8F, 0x91, 0x92, 0x93, 0x94, 0x96, 0x98, 0x9E, 0xA0, 0xA1, 0xA2]
                            .contains($0))
            }
            code = pick(codes)
        } else {
            code = uint8(0...5)
        }
        // MQTT 3.1 has no session present flag.
        let sessionPresent = code == 0 && version != .v31 && bool()
        return ConnAckPacket(sessionPresent: sessionPresent, reasonCode: code, properties: connAckProperties())
    }

    mutating func publish() -> PublishPacket {
        let qos = qos()
        var properties = MQTTProperties()
        var topic = topicName()
        if isV5 {
            messageProperties(into: &properties)
            properties.topicAlias = maybe { $0.uint16(1...UInt16.max) }
            properties.subscriptionIdentifiers = (0..<pick([0, 0, 1, 3])).map { _ in uint32(1...268_435_455) }
            if properties.topicAlias != nil && bool() { topic = "" }
        }
        return PublishPacket(
            topic: topic,
            payload: payload(),
            qos: qos,
            retain: bool(),
            dup: qos != .atMostOnce && bool(),
            packetIdentifier: qos == .atMostOnce ? nil : identifier(),
            properties: properties
        )
    }

    mutating func acknowledgment(_ reason: ReasonCode) -> PubAckPacket {
        guard isV5 else { return PubAckPacket(packetIdentifier: identifier()) }
        return PubAckPacket(packetIdentifier: identifier(), reasonCode: reason, properties: reasonProperties())
    }

    mutating func subscribe() -> SubscribePacket {
        let subscriptions = (0..<int(1...5)).map { _ in
            let filter = pick(["$share/g/", ""]) + string(1...10)
            let options =
                isV5
                ? SubscriptionOptions(
                    qos: qos(),
                    noLocal: !filter.hasPrefix("$share/") && bool(),
                    retainAsPublished: bool(),
                    retainHandling: uint8(0...2)
                )
                : SubscriptionOptions(qos: qos())
            return TopicSubscription(topicFilter: filter, options: options)
        }
        var properties = MQTTProperties()
        if isV5 {
            properties.userProperties = userProperties()
            if bool() { properties.subscriptionIdentifiers = [uint32(1...268_435_455)] }
        }
        return SubscribePacket(packetIdentifier: identifier(), subscriptions: subscriptions, properties: properties)
    }

    mutating func subAck() -> SubAckPacket {
        let codes: [UInt8] =
            switch version {
            case .v31: [0, 1, 2]  // 3.1 has no failure code
            case .v311: [0, 1, 2, 0x80]
            case .v5: [0, 1, 2, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2]
            }
        return SubAckPacket(
            packetIdentifier: identifier(),
            reasonCodes: (0..<int(1...6)).map { _ in pick(codes) },
            properties: reasonProperties()
        )
    }

    mutating func disconnect() -> DisconnectPacket {
        guard isV5 else { return DisconnectPacket() }
        let codes: [ReasonCode] = [
            .success, .disconnectWithWill, .unspecifiedError, .protocolError, .serverShuttingDown, .keepAliveTimeout,
            .sessionTakenOver, .useAnotherServer, .wildcardSubscriptionsNotSupported,
        ]
        var properties = reasonProperties()
        properties.sessionExpiryInterval = maybe { $0.uint32() }
        properties.serverReference = maybe { $0.string() }
        return DisconnectPacket(reasonCode: pick(codes), properties: properties)
    }
}

extension ReasonCode {
    /// Codes MQTT 5 allows in PUBACK and PUBREC (section 3.4.2.1).
    var isPubAckCode: Bool {
        [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99].contains(rawValue)
    }
}
