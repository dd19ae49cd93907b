import NIOCore
import WharfCore

extension ConnectPacket {
    /// The connect flag bits.
    private enum Flag {
        static let reserved: UInt8 = 0x01
        static let cleanStart: UInt8 = 0x02
        static let will: UInt8 = 0x04
        static let willQoSMask: UInt8 = 0x18
        static let willRetain: UInt8 = 0x20
        static let password: UInt8 = 0x40
        static let username: UInt8 = 0x80
    }

    /// Decodes a CONNECT body; its own protocol level decides the version.
    static func decode(body: inout ByteBuffer) throws(MQTTDecodeError) -> ConnectPacket {
        let name = try body.readMQTTString("protocol name")
        let level = try body.readMQTTByte("protocol level")
        guard let version = MQTTProtocolVersion(protocolName: name, level: level) else {
            throw MQTTDecodeError(
                reasonCode: .unsupportedProtocolVersion,
                message: "protocol \"\(name)\" level \(level) is not supported (MQIsdp 3, MQTT 4 and 5 are)"
            )
        }
        do {
            return try decode(body: &body, version: version)
        } catch {
            var error = error
            error.protocolVersion = version
            throw error
        }
    }

    private static func decode(
        body: inout ByteBuffer,
        version: MQTTProtocolVersion
    ) throws(MQTTDecodeError) -> ConnectPacket {
        let flags = try body.readMQTTByte("connect flags")
        // MQTT 3.1 calls bit 0 unused and does not tie the will QoS and retain bits to the will
        // flag; 3.1.1 made both malformed. Mosquitto reads 3.1 the same way.
        let isV31 = version == .v31
        guard flags & Flag.reserved == 0 || isV31 else { throw .malformed("reserved connect flag is set") }
        let hasWill = flags & Flag.will != 0
        let willQoSBits = (flags & Flag.willQoSMask) >> 3
        let willRetain = flags & Flag.willRetain != 0
        if !hasWill && !isV31 && (willQoSBits != 0 || willRetain) {
            throw .malformed("will QoS or will retain set without the will flag")
        }
        guard let willQoS = QoS(rawValue: willQoSBits) else { throw .malformed("will QoS 3 is not valid") }
        let hasUsername = flags & Flag.username != 0
        let hasPassword = flags & Flag.password != 0
        if version != .v5 && hasPassword && !hasUsername {
            throw .malformed("password flag set without user name flag")
        }
        let keepAlive = try body.readMQTTUInt16("keep alive")
        let properties =
            version == .v5 ? try MQTTProperties.decode(from: &body, in: .connect) : MQTTProperties()
        let clientIdentifier = try body.readMQTTString("client identifier")
        var will: Will?
        if hasWill {
            let willProperties =
                version == .v5 ? try MQTTProperties.decode(from: &body, in: .will) : MQTTProperties()
            let (topic, hasWildcard) = try body.readMQTTStringScanningWildcards("will topic")
            guard !topic.isEmpty, !hasWildcard else {
                throw MQTTDecodeError(reasonCode: .topicNameInvalid, message: "will topic \"\(topic)\" is not valid")
            }
            let payload = try body.readMQTTBinarySlice("will payload")
            will = Will(topic: topic, payload: payload, qos: willQoS, retain: willRetain, properties: willProperties)
        }
        // Some MQTT 3.1 clients set the user name or password flag and leave the field out; when
        // the packet ends there, 3.1 reads the field as absent (Mosquitto does the same).
        let username = hasUsername && !(isV31 && body.readableBytes == 0) ? try body.readMQTTString("user name") : nil
        let password = hasPassword && !(isV31 && body.readableBytes == 0) ? try body.readMQTTBinary("password") : nil
        return ConnectPacket(
            protocolVersion: version,
            clientIdentifier: clientIdentifier,
            cleanStart: flags & Flag.cleanStart != 0,
            keepAlive: keepAlive,
            username: username,
            password: password,
            will: will,
            properties: properties
        )
    }

    /// Remaining Length of the encoded packet.
    var remainingLength: Int {
        // Protocol name (2 + 4, or 2 + 6 for 3.1's "MQIsdp"), level, flags, keep alive.
        var size = (protocolVersion == .v31 ? 12 : 10) + stringFieldSize(clientIdentifier)
        if protocolVersion == .v5 { size += properties.encodedSize }
        if let will {
            if protocolVersion == .v5 { size += will.properties.encodedSize }
            size += stringFieldSize(will.topic) + 2 + will.payload.readableBytes
        }
        if let username { size += stringFieldSize(username) }
        if let password { size += 2 + password.count }
        return size
    }

    /// Writes the variable header and payload.
    func writeBody(into buffer: inout ByteBuffer) throws(MQTTEncodeError) {
        if protocolVersion != .v5 && password != nil && username == nil {
            throw MQTTEncodeError(message: "MQTT \(protocolVersion) does not allow a password without a user name")
        }
        var flags: UInt8 = cleanStart ? Flag.cleanStart : 0
        if let will {
            flags |= Flag.will | will.qos.rawValue << 3 | (will.retain ? Flag.willRetain : 0)
        }
        if username != nil { flags |= Flag.username }
        if password != nil { flags |= Flag.password }
        if protocolVersion == .v31 {
            // Length 6, "MQIsdp", then level 3.
            buffer.writeMultipleIntegers(UInt16(6), UInt32(0x4D51_4973), UInt16(0x6470), protocolVersion.rawValue)
            buffer.writeMultipleIntegers(flags, keepAlive)
        } else {
            // Length 4, "MQTT", then the level.
            buffer.writeMultipleIntegers(UInt16(4), UInt32(0x4D51_5454), protocolVersion.rawValue, flags, keepAlive)
        }
        if protocolVersion == .v5 { try properties.write(into: &buffer) }
        try buffer.writeMQTTString(clientIdentifier, "client identifier")
        if let will {
            if protocolVersion == .v5 { try will.properties.write(into: &buffer) }
            try buffer.writeMQTTString(will.topic, "will topic")
            try buffer.writeMQTTBinary(will.payload, "will payload")
        }
        if let username { try buffer.writeMQTTString(username, "user name") }
        if let password { try buffer.writeMQTTBinary(password, "password") }
    }
}
