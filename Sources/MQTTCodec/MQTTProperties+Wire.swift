import NIOCore
import WharfCore

/// Where a property list appears; each property is allowed in some of these only.
enum PropertyContext: UInt8, Sendable {
    case connect, connAck, publish, pubAck, subscribe, subAck, unsubscribe, unsubAck, disconnect, auth, will

    var mask: UInt16 { 1 << UInt16(rawValue) }

    /// The contexts in which the property with this identifier may appear.
    static func allowed(_ identifier: UInt8) -> UInt16 {
        switch identifier {
        case 0x01, 0x02, 0x03, 0x08, 0x09: return PropertyContext.publish.mask | PropertyContext.will.mask
        case 0x0B: return PropertyContext.publish.mask | PropertyContext.subscribe.mask
        case 0x11: return PropertyContext.connect.mask | PropertyContext.connAck.mask | PropertyContext.disconnect.mask
        case 0x12, 0x13, 0x1A, 0x24, 0x25, 0x28, 0x29, 0x2A: return PropertyContext.connAck.mask
        case 0x15, 0x16: return PropertyContext.connect.mask | PropertyContext.connAck.mask | PropertyContext.auth.mask
        case 0x17, 0x19: return PropertyContext.connect.mask
        case 0x18: return PropertyContext.will.mask
        case 0x1C: return PropertyContext.connAck.mask | PropertyContext.disconnect.mask
        case 0x1F:
            return PropertyContext.connAck.mask | PropertyContext.pubAck.mask | PropertyContext.subAck.mask
                | PropertyContext.unsubAck.mask | PropertyContext.disconnect.mask | PropertyContext.auth.mask
        case 0x21, 0x22, 0x27: return PropertyContext.connect.mask | PropertyContext.connAck.mask
        case 0x23: return PropertyContext.publish.mask
        case 0x26:
            return PropertyContext.connect.mask | PropertyContext.connAck.mask | PropertyContext.publish.mask
                | PropertyContext.pubAck.mask | PropertyContext.subscribe.mask | PropertyContext.subAck.mask
                | PropertyContext.unsubscribe.mask | PropertyContext.unsubAck.mask | PropertyContext.disconnect.mask
                | PropertyContext.auth.mask | PropertyContext.will.mask
        default: return 0
        }
    }
}

extension MQTTProperties {
    /// Reads a property length and the properties it covers, enforcing where each may appear,
    /// that only User Property (and Subscription Identifier in PUBLISH) repeat, and value ranges.
    static func decode(from body: inout ByteBuffer, in context: PropertyContext) throws(MQTTDecodeError)
        -> MQTTProperties
    {
        let length = try body.readMQTTVariableByteInteger("property length")
        if length == 0 { return MQTTProperties() }
        guard var bytes = body.readSlice(length: length) else {
            throw .malformed("property length \(length) exceeds the \(body.readableBytes) bytes left")
        }
        var fields = Fields()
        var seen: UInt64 = 0
        while let identifier = bytes.readInteger(as: UInt8.self) {
            guard identifier < 64, PropertyContext.allowed(identifier) & context.mask != 0 else {
                throw .malformed("property identifier \(hex(identifier)) is not allowed in \(context)")
            }
            let bit: UInt64 = 1 << identifier
            if seen & bit != 0 && identifier != 0x26 && !(identifier == 0x0B && context == .publish) {
                throw .protocolError("property \(hex(identifier)) appears more than once")
            }
            seen |= bit
            switch identifier {
            case 0x01:
                let value = try bytes.readMQTTByte("payloadFormatIndicator")
                guard value <= 1 else { throw .protocolError("payloadFormatIndicator must be 0 or 1, not \(value)") }
                fields.payloadFormatIndicator = value
            case 0x02:
                let value = try bytes.readMQTTUInt32("messageExpiryInterval")
                fields.messageExpiryInterval = value
            case 0x03:
                fields.contentType = try bytes.readMQTTString("contentType")
            case 0x08:
                let (value, hasWildcard) = try bytes.readMQTTStringScanningWildcards("responseTopic")
                guard !hasWildcard else { throw .protocolError("responseTopic must not contain wildcards") }
                fields.responseTopic = value
            case 0x09:
                fields.correlationData = try bytes.readMQTTBinary("correlationData")
            case 0x0B:
                let value = try bytes.readMQTTVariableByteInteger("subscription identifier")
                guard value != 0 else { throw .protocolError("subscription identifier must not be 0") }
                fields.subscriptionIdentifiers.append(UInt32(truncatingIfNeeded: value))
            case 0x11:
                let value = try bytes.readMQTTUInt32("sessionExpiryInterval")
                fields.sessionExpiryInterval = value
            case 0x12:
                fields.assignedClientIdentifier = try bytes.readMQTTString("assignedClientIdentifier")
            case 0x13:
                let value = try bytes.readMQTTUInt16("serverKeepAlive")
                fields.serverKeepAlive = value
            case 0x15:
                fields.authenticationMethod = try bytes.readMQTTString("authenticationMethod")
            case 0x16:
                fields.authenticationData = try bytes.readMQTTBinary("authenticationData")
            case 0x17:
                let value = try bytes.readMQTTByte("requestProblemInformation")
                guard value <= 1 else { throw .protocolError("requestProblemInformation must be 0 or 1, not \(value)") }
                fields.requestProblemInformation = value
            case 0x18:
                let value = try bytes.readMQTTUInt32("willDelayInterval")
                fields.willDelayInterval = value
            case 0x19:
                let value = try bytes.readMQTTByte("requestResponseInformation")
                guard value <= 1 else {
                    throw .protocolError("requestResponseInformation must be 0 or 1, not \(value)")
                }
                fields.requestResponseInformation = value
            case 0x1A:
                fields.responseInformation = try bytes.readMQTTString("responseInformation")
            case 0x1C:
                fields.serverReference = try bytes.readMQTTString("serverReference")
            case 0x1F:
                fields.reasonString = try bytes.readMQTTString("reasonString")
            case 0x21:
                let value = try bytes.readMQTTUInt16("receiveMaximum")
                guard value != 0 else { throw .protocolError("receiveMaximum must not be 0") }
                fields.receiveMaximum = value
            case 0x22:
                let value = try bytes.readMQTTUInt16("topicAliasMaximum")
                fields.topicAliasMaximum = value
            case 0x23:
                let value = try bytes.readMQTTUInt16("topicAlias")
                guard value != 0 else { throw .protocolError("topicAlias must not be 0") }
                fields.topicAlias = value
            case 0x24:
                let value = try bytes.readMQTTByte("maximumQoS")
                guard value <= 1 else { throw .protocolError("maximumQoS must be 0 or 1, not \(value)") }
                fields.maximumQoS = value
            case 0x25:
                let value = try bytes.readMQTTByte("retainAvailable")
                guard value <= 1 else { throw .protocolError("retainAvailable must be 0 or 1, not \(value)") }
                fields.retainAvailable = value
            case 0x26:
                let name = try bytes.readMQTTString("user property name")
                let value = try bytes.readMQTTString("user property value")
                fields.userProperties.append(UserProperty(name, value))
            case 0x27:
                let value = try bytes.readMQTTUInt32("maximumPacketSize")
                guard value != 0 else { throw .protocolError("maximumPacketSize must not be 0") }
                fields.maximumPacketSize = value
            case 0x28:
                let value = try bytes.readMQTTByte("wildcardSubscriptionAvailable")
                guard value <= 1 else {
                    throw .protocolError("wildcardSubscriptionAvailable must be 0 or 1, not \(value)")
                }
                fields.wildcardSubscriptionAvailable = value
            case 0x29:
                let value = try bytes.readMQTTByte("subscriptionIdentifiersAvailable")
                guard value <= 1 else {
                    throw .protocolError("subscriptionIdentifiersAvailable must be 0 or 1, not \(value)")
                }
                fields.subscriptionIdentifiersAvailable = value
            case 0x2A:
                let value = try bytes.readMQTTByte("sharedSubscriptionAvailable")
                guard value <= 1 else {
                    throw .protocolError("sharedSubscriptionAvailable must be 0 or 1, not \(value)")
                }
                fields.sharedSubscriptionAvailable = value
            default:
                throw .malformed("unknown property identifier \(hex(identifier))")
            }
        }
        if fields.authenticationData != nil && fields.authenticationMethod == nil {
            throw .protocolError("authentication data without an authentication method")
        }
        // A non-zero length held at least one property.
        return MQTTProperties(storage: Box(fields))
    }

    /// Size of the properties without their length prefix.
    var encodedContentSize: Int {
        guard let box = storage else { return 0 }
        var size = 0
        if box.fields.payloadFormatIndicator != nil { size += 2 }
        if box.fields.messageExpiryInterval != nil { size += 5 }
        if let value = box.fields.contentType { size += 1 + stringFieldSize(value) }
        if let value = box.fields.responseTopic { size += 1 + stringFieldSize(value) }
        if let value = box.fields.correlationData { size += 3 + value.count }
        for value in box.fields.subscriptionIdentifiers { size += 1 + variableByteIntegerSize(Int(value)) }
        if box.fields.sessionExpiryInterval != nil { size += 5 }
        if let value = box.fields.assignedClientIdentifier { size += 1 + stringFieldSize(value) }
        if box.fields.serverKeepAlive != nil { size += 3 }
        if let value = box.fields.authenticationMethod { size += 1 + stringFieldSize(value) }
        if let value = box.fields.authenticationData { size += 3 + value.count }
        if box.fields.requestProblemInformation != nil { size += 2 }
        if box.fields.willDelayInterval != nil { size += 5 }
        if box.fields.requestResponseInformation != nil { size += 2 }
        if let value = box.fields.responseInformation { size += 1 + stringFieldSize(value) }
        if let value = box.fields.serverReference { size += 1 + stringFieldSize(value) }
        if let value = box.fields.reasonString { size += 1 + stringFieldSize(value) }
        if box.fields.receiveMaximum != nil { size += 3 }
        if box.fields.topicAliasMaximum != nil { size += 3 }
        if box.fields.topicAlias != nil { size += 3 }
        if box.fields.maximumQoS != nil { size += 2 }
        if box.fields.retainAvailable != nil { size += 2 }
        for pair in box.fields.userProperties {
            size += 1 + stringFieldSize(pair.name) + stringFieldSize(pair.value)
        }
        if box.fields.maximumPacketSize != nil { size += 5 }
        if box.fields.wildcardSubscriptionAvailable != nil { size += 2 }
        if box.fields.subscriptionIdentifiersAvailable != nil { size += 2 }
        if box.fields.sharedSubscriptionAvailable != nil { size += 2 }
        return size
    }

    /// Size of the properties including their length prefix.
    var encodedSize: Int {
        let content = encodedContentSize
        return variableByteIntegerSize(content) + content
    }

    /// Throws if a field cannot be represented: strings and binary data over 65535 bytes,
    /// subscription identifiers over 268435455.
    private func validateForEncoding() throws(MQTTEncodeError) {
        guard let box = storage else { return }
        func check(_ length: Int, _ field: String) throws(MQTTEncodeError) {
            guard length <= mqttMaximumFieldLength else {
                throw MQTTEncodeError(message: "\(field) is \(length) bytes; at most 65535 fit")
            }
        }
        if let value = box.fields.contentType { try check(value.utf8.count, "contentType") }
        if let value = box.fields.responseTopic { try check(value.utf8.count, "responseTopic") }
        if let value = box.fields.correlationData { try check(value.count, "correlationData") }
        for value in box.fields.subscriptionIdentifiers where value > mqttMaximumVariableByteInteger {
            throw MQTTEncodeError(message: "subscription identifier \(value) exceeds 268435455")
        }
        if let value = box.fields.assignedClientIdentifier { try check(value.utf8.count, "assignedClientIdentifier") }
        if let value = box.fields.authenticationMethod { try check(value.utf8.count, "authenticationMethod") }
        if let value = box.fields.authenticationData { try check(value.count, "authenticationData") }
        if let value = box.fields.responseInformation { try check(value.utf8.count, "responseInformation") }
        if let value = box.fields.serverReference { try check(value.utf8.count, "serverReference") }
        if let value = box.fields.reasonString { try check(value.utf8.count, "reasonString") }
        for pair in box.fields.userProperties {
            try check(pair.name.utf8.count, "user property name")
            try check(pair.value.utf8.count, "user property value")
        }
    }

    /// Writes the property length and the properties, in identifier order.
    func write(into buffer: inout ByteBuffer) throws(MQTTEncodeError) {
        guard let box = storage else {
            buffer.writeInteger(UInt8(0))
            return
        }
        try validateForEncoding()
        let content = encodedContentSize
        let size = variableByteIntegerSize(content) + content
        let written = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
            var writer = RawWriter(out)
            writer.variableByteInteger(content)
            box.fields.write(to: &writer)
            return writer.count
        }
        assert(written == size, "properties wrote \(written) bytes, expected \(size)")
    }
}

extension MQTTProperties.Fields {
    /// Writes every present property; sizes and limits were checked by the caller.
    @inline(__always)
    fileprivate func write(to writer: inout RawWriter) {
        if let value = payloadFormatIndicator {
            writer.byte(0x01)
            writer.byte(value)
        }
        if let value = messageExpiryInterval {
            writer.byte(0x02)
            writer.uint32(value)
        }
        if let value = contentType {
            writer.byte(0x03)
            writer.string(value)
        }
        if let value = responseTopic {
            writer.byte(0x08)
            writer.string(value)
        }
        if let value = correlationData {
            writer.byte(0x09)
            writer.binary(value)
        }
        for value in subscriptionIdentifiers {
            writer.byte(0x0B)
            writer.variableByteInteger(Int(value))
        }
        if let value = sessionExpiryInterval {
            writer.byte(0x11)
            writer.uint32(value)
        }
        if let value = assignedClientIdentifier {
            writer.byte(0x12)
            writer.string(value)
        }
        if let value = serverKeepAlive {
            writer.byte(0x13)
            writer.uint16(value)
        }
        if let value = authenticationMethod {
            writer.byte(0x15)
            writer.string(value)
        }
        if let value = authenticationData {
            writer.byte(0x16)
            writer.binary(value)
        }
        if let value = requestProblemInformation {
            writer.byte(0x17)
            writer.byte(value)
        }
        if let value = willDelayInterval {
            writer.byte(0x18)
            writer.uint32(value)
        }
        if let value = requestResponseInformation {
            writer.byte(0x19)
            writer.byte(value)
        }
        if let value = responseInformation {
            writer.byte(0x1A)
            writer.string(value)
        }
        if let value = serverReference {
            writer.byte(0x1C)
            writer.string(value)
        }
        if let value = reasonString {
            writer.byte(0x1F)
            writer.string(value)
        }
        if let value = receiveMaximum {
            writer.byte(0x21)
            writer.uint16(value)
        }
        if let value = topicAliasMaximum {
            writer.byte(0x22)
            writer.uint16(value)
        }
        if let value = topicAlias {
            writer.byte(0x23)
            writer.uint16(value)
        }
        if let value = maximumQoS {
            writer.byte(0x24)
            writer.byte(value)
        }
        if let value = retainAvailable {
            writer.byte(0x25)
            writer.byte(value)
        }
        for pair in userProperties {
            writer.byte(0x26)
            writer.string(pair.name)
            writer.string(pair.value)
        }
        if let value = maximumPacketSize {
            writer.byte(0x27)
            writer.uint32(value)
        }
        if let value = wildcardSubscriptionAvailable {
            writer.byte(0x28)
            writer.byte(value)
        }
        if let value = subscriptionIdentifiersAvailable {
            writer.byte(0x29)
            writer.byte(value)
        }
        if let value = sharedSubscriptionAvailable {
            writer.byte(0x2A)
            writer.byte(value)
        }
    }
}

/// "0x26"-style rendering for error messages.
func hex(_ value: UInt8) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return value < 16 ? "0x0" + digits : "0x" + digits
}
