public import NIOCore

extension MQTTPacket {
    /// Appends the packet's bytes; throws, writing nothing, if it cannot be represented.
    ///
    /// Unrepresentable means: a string or binary field over 65535 bytes, a Remaining Length over
    /// 268435455, a QoS 1/2 PUBLISH without packet identifier, retain handling above 2, AUTH or a
    /// password without user name in 3.1 and 3.1.1, a SUBACK failure code in 3.1. CONNECT is
    /// written in its own `protocolVersion`. For 3.1 and 3.1.1, MQTT 5 properties and reason codes
    /// are left out (failure codes in CONNACK and SUBACK become their 3.1.1 equivalents), and 3.1's
    /// CONNACK carries no session present flag.
    public func encode(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        // The packets a busy server sends most take shortcuts.
        switch self {
        case .publish(let packet):
            return try packet.encode(into: &buffer, version: version)
        case .pubAck(let packet), .pubRec(let packet), .pubRel(let packet), .pubComp(let packet):
            if packet.remainingLength(version: version) == 2 {
                let first = UInt32(packetType.rawValue << 4 | packetType.requiredFlags)
                buffer.writeInteger(first << 24 | 2 << 16 | UInt32(packet.packetIdentifier))
                return
            }
        case .pingReq, .pingResp:
            buffer.writeInteger(UInt16(packetType.rawValue) << 12)
            return
        default:
            break
        }
        let remainingLength = try checkedRemainingLength(version: version)
        buffer.reserveCapacity(minimumWritableBytes: 1 + variableByteIntegerSize(remainingLength) + remainingLength)
        let start = buffer.writerIndex
        buffer.writeInteger(packetType.rawValue << 4 | flags)
        buffer.writeMQTTVariableByteInteger(remainingLength)
        do {
            try writeBody(into: &buffer, version: version)
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
        assert(buffer.writerIndex - start == 1 + variableByteIntegerSize(remainingLength) + remainingLength)
    }

    /// Size in bytes of the encoded packet, fixed header included (as MQTT 5 Maximum Packet Size counts).
    ///
    /// Meaningful for packets `encode` accepts.
    public func encodedSize(version: MQTTProtocolVersion) -> Int {
        let remainingLength = remainingLength(version: version)
        return 1 + variableByteIntegerSize(remainingLength) + remainingLength
    }

    private func checkedRemainingLength(version: MQTTProtocolVersion) throws(MQTTEncodeError) -> Int {
        if case .auth = self, version != .v5 {
            throw MQTTEncodeError(message: "AUTH does not exist in MQTT \(version)")
        }
        let remainingLength = remainingLength(version: version)
        guard remainingLength <= MQTTPacket.maximumRemainingLength else {
            throw MQTTEncodeError(message: "\(packetType) remaining length \(remainingLength) exceeds 268435455")
        }
        return remainingLength
    }

    private var flags: UInt8 {
        if case .publish(let publish) = self { return publish.flags }
        return packetType.requiredFlags
    }

    private func remainingLength(version: MQTTProtocolVersion) -> Int {
        switch self {
        case .publish(let packet): return packet.remainingLength(version: version)
        case .pubAck(let packet), .pubRec(let packet), .pubRel(let packet), .pubComp(let packet):
            return packet.remainingLength(version: version)
        case .connect(let packet): return packet.remainingLength
        case .connAck(let packet): return packet.remainingLength(version: version)
        case .subscribe(let packet): return packet.remainingLength(version: version)
        case .subAck(let packet): return packet.remainingLength(version: version)
        case .unsubscribe(let packet): return packet.remainingLength(version: version)
        case .unsubAck(let packet): return packet.remainingLength(version: version)
        case .pingReq, .pingResp: return 0
        case .disconnect(let packet): return packet.remainingLength(version: version)
        case .auth(let packet): return packet.remainingLength
        }
    }

    private func writeBody(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTEncodeError) {
        switch self {
        case .publish(let packet): try packet.encode(into: &buffer, version: version)
        case .pubAck(let packet), .pubRec(let packet), .pubRel(let packet), .pubComp(let packet):
            try packet.writeBody(into: &buffer, version: version)
        case .connect(let packet): try packet.writeBody(into: &buffer)
        case .connAck(let packet): try packet.writeBody(into: &buffer, version: version)
        case .subscribe(let packet): try packet.writeBody(into: &buffer, version: version)
        case .subAck(let packet): try packet.writeBody(into: &buffer, version: version)
        case .unsubscribe(let packet): try packet.writeBody(into: &buffer, version: version)
        case .unsubAck(let packet): try packet.writeBody(into: &buffer, version: version)
        case .pingReq, .pingResp: break
        case .disconnect(let packet): try packet.writeBody(into: &buffer, version: version)
        case .auth(let packet): try packet.writeBody(into: &buffer)
        }
    }
}
