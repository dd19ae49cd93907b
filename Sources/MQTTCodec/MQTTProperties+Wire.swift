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
        return MQTTProperties(fields: fields)
    }

    /// Size of the properties without their length prefix.
    var encodedContentSize: Int {
        guard let fields = fieldsIfPresent else { return 0 }
        var size = 0
        if fields.payloadFormatIndicator != nil { size += 2 }
        if fields.messageExpiryInterval != nil { size += 5 }
        if let value = fields.contentType { size += 1 + stringFieldSize(value) }
        if let value = fields.responseTopic { size += 1 + stringFieldSize(value) }
        if let value = fields.correlationData { size += 3 + value.count }
        for value in fields.subscriptionIdentifiers { size += 1 + variableByteIntegerSize(Int(value)) }
        if fields.sessionExpiryInterval != nil { size += 5 }
        if let value = fields.assignedClientIdentifier { size += 1 + stringFieldSize(value) }
        if fields.serverKeepAlive != nil { size += 3 }
        if let value = fields.authenticationMethod { size += 1 + stringFieldSize(value) }
        if let value = fields.authenticationData { size += 3 + value.count }
        if fields.requestProblemInformation != nil { size += 2 }
        if fields.willDelayInterval != nil { size += 5 }
        if fields.requestResponseInformation != nil { size += 2 }
        if let value = fields.responseInformation { size += 1 + stringFieldSize(value) }
        if let value = fields.serverReference { size += 1 + stringFieldSize(value) }
        if let value = fields.reasonString { size += 1 + stringFieldSize(value) }
        if fields.receiveMaximum != nil { size += 3 }
        if fields.topicAliasMaximum != nil { size += 3 }
        if fields.topicAlias != nil { size += 3 }
        if fields.maximumQoS != nil { size += 2 }
        if fields.retainAvailable != nil { size += 2 }
        for pair in fields.userProperties { size += 1 + stringFieldSize(pair.name) + stringFieldSize(pair.value) }
        if fields.maximumPacketSize != nil { size += 5 }
        if fields.wildcardSubscriptionAvailable != nil { size += 2 }
        if fields.subscriptionIdentifiersAvailable != nil { size += 2 }
        if fields.sharedSubscriptionAvailable != nil { size += 2 }
        return size
    }

    /// Size of the properties including their length prefix.
    var encodedSize: Int {
        let content = encodedContentSize
        return variableByteIntegerSize(content) + content
    }

    /// Writes the property length and the properties, in identifier order.
    func write(into buffer: inout ByteBuffer) throws(MQTTEncodeError) {
        guard let fields = fieldsIfPresent else {
            buffer.writeInteger(UInt8(0))
            return
        }
        buffer.writeMQTTVariableByteInteger(encodedContentSize)
        if let value = fields.payloadFormatIndicator { buffer.writeMultipleIntegers(UInt8(0x01), value) }
        if let value = fields.messageExpiryInterval { buffer.writeMultipleIntegers(UInt8(0x02), value) }
        if let value = fields.contentType {
            buffer.writeInteger(UInt8(0x03))
            try buffer.writeMQTTString(value, "contentType")
        }
        if let value = fields.responseTopic {
            buffer.writeInteger(UInt8(0x08))
            try buffer.writeMQTTString(value, "responseTopic")
        }
        if let value = fields.correlationData {
            buffer.writeInteger(UInt8(0x09))
            try buffer.writeMQTTBinary(value, "correlationData")
        }
        for value in fields.subscriptionIdentifiers {
            guard value <= mqttMaximumVariableByteInteger else {
                throw MQTTEncodeError(message: "subscription identifier \(value) exceeds 268435455")
            }
            buffer.writeInteger(UInt8(0x0B))
            buffer.writeMQTTVariableByteInteger(Int(value))
        }
        if let value = fields.sessionExpiryInterval { buffer.writeMultipleIntegers(UInt8(0x11), value) }
        if let value = fields.assignedClientIdentifier {
            buffer.writeInteger(UInt8(0x12))
            try buffer.writeMQTTString(value, "assignedClientIdentifier")
        }
        if let value = fields.serverKeepAlive { buffer.writeMultipleIntegers(UInt8(0x13), value) }
        if let value = fields.authenticationMethod {
            buffer.writeInteger(UInt8(0x15))
            try buffer.writeMQTTString(value, "authenticationMethod")
        }
        if let value = fields.authenticationData {
            buffer.writeInteger(UInt8(0x16))
            try buffer.writeMQTTBinary(value, "authenticationData")
        }
        if let value = fields.requestProblemInformation { buffer.writeMultipleIntegers(UInt8(0x17), value) }
        if let value = fields.willDelayInterval { buffer.writeMultipleIntegers(UInt8(0x18), value) }
        if let value = fields.requestResponseInformation { buffer.writeMultipleIntegers(UInt8(0x19), value) }
        if let value = fields.responseInformation {
            buffer.writeInteger(UInt8(0x1A))
            try buffer.writeMQTTString(value, "responseInformation")
        }
        if let value = fields.serverReference {
            buffer.writeInteger(UInt8(0x1C))
            try buffer.writeMQTTString(value, "serverReference")
        }
        if let value = fields.reasonString {
            buffer.writeInteger(UInt8(0x1F))
            try buffer.writeMQTTString(value, "reasonString")
        }
        if let value = fields.receiveMaximum { buffer.writeMultipleIntegers(UInt8(0x21), value) }
        if let value = fields.topicAliasMaximum { buffer.writeMultipleIntegers(UInt8(0x22), value) }
        if let value = fields.topicAlias { buffer.writeMultipleIntegers(UInt8(0x23), value) }
        if let value = fields.maximumQoS { buffer.writeMultipleIntegers(UInt8(0x24), value) }
        if let value = fields.retainAvailable { buffer.writeMultipleIntegers(UInt8(0x25), value) }
        for pair in fields.userProperties {
            buffer.writeInteger(UInt8(0x26))
            try buffer.writeMQTTString(pair.name, "user property name")
            try buffer.writeMQTTString(pair.value, "user property value")
        }
        if let value = fields.maximumPacketSize { buffer.writeMultipleIntegers(UInt8(0x27), value) }
        if let value = fields.wildcardSubscriptionAvailable { buffer.writeMultipleIntegers(UInt8(0x28), value) }
        if let value = fields.subscriptionIdentifiersAvailable { buffer.writeMultipleIntegers(UInt8(0x29), value) }
        if let value = fields.sharedSubscriptionAvailable { buffer.writeMultipleIntegers(UInt8(0x2A), value) }
    }
}

/// "0x26"-style rendering for error messages.
func hex(_ value: UInt8) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return value < 16 ? "0x0" + digits : "0x" + digits
}
