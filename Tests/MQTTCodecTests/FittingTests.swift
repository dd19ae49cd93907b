import MQTTCodec
import NIOCore
import PropertyBased
import Testing
import WharfCore

@Suite struct FittingTests {
    private func withDiagnostics(reason: String, users: Int) -> MQTTProperties {
        var properties = MQTTProperties()
        properties.reasonString = reason
        properties.userProperties = (0..<users).map { UserProperty("name-\($0)", "value") }
        return properties
    }

    private func size(_ packet: MQTTPacket?) -> Int? {
        packet?.encodedSize(version: .v5)
    }

    @Test func aPacketThatFitsIsUnchanged() {
        let packet = MQTTPacket.pubAck(
            PubAckPacket(
                packetIdentifier: 7, reasonCode: .quotaExceeded, properties: withDiagnostics(reason: "x", users: 1)))
        #expect(packet.fitted(toMaximumSize: packet.encodedSize(version: .v5), version: .v5) == packet)
    }

    @Test func theReasonStringGoesFirstThenTheUserProperties() throws {
        let full = MQTTPacket.disconnect(
            DisconnectPacket(reasonCode: .protocolError, properties: withDiagnostics(reason: "why it ended", users: 2)))
        var userPropertiesOnly = withDiagnostics(reason: "", users: 2)
        userPropertiesOnly.reasonString = nil
        let withoutReason = MQTTPacket.disconnect(
            DisconnectPacket(reasonCode: .protocolError, properties: userPropertiesOnly))
        let bare = MQTTPacket.disconnect(DisconnectPacket(reasonCode: .protocolError))

        let oneLess = full.encodedSize(version: .v5) - 1
        #expect(full.fitted(toMaximumSize: oneLess, version: .v5) == withoutReason)
        let belowUsers = withoutReason.encodedSize(version: .v5) - 1
        #expect(full.fitted(toMaximumSize: belowUsers, version: .v5) == bare)
        #expect(full.fitted(toMaximumSize: bare.encodedSize(version: .v5), version: .v5) == bare)
        #expect(full.fitted(toMaximumSize: bare.encodedSize(version: .v5) - 1, version: .v5) == nil)
    }

    @Test func everyAcknowledgementGivesUpItsDiagnostics() {
        let properties = withDiagnostics(reason: String(repeating: "r", count: 100), users: 0)
        let packets: [MQTTPacket] = [
            .connAck(ConnAckPacket(reason: .notAuthorized, properties: properties)),
            .pubAck(PubAckPacket(packetIdentifier: 1, reasonCode: .notAuthorized, properties: properties)),
            .pubRec(PubAckPacket(packetIdentifier: 1, reasonCode: .notAuthorized, properties: properties)),
            .pubRel(PubAckPacket(packetIdentifier: 1, reasonCode: .packetIdentifierNotFound, properties: properties)),
            .pubComp(PubAckPacket(packetIdentifier: 1, reasonCode: .packetIdentifierNotFound, properties: properties)),
            .subAck(SubAckPacket(packetIdentifier: 1, reasonCodes: [0x87], properties: properties)),
            .unsubAck(UnsubAckPacket(packetIdentifier: 1, reasonCodes: [.notAuthorized], properties: properties)),
            .disconnect(DisconnectPacket(reasonCode: .serverBusy, properties: properties)),
            .auth(AuthPacket(reasonCode: .continueAuthentication, properties: properties)),
        ]
        for packet in packets {
            let fitted = packet.fitted(toMaximumSize: 50, version: .v5)
            #expect(fitted != nil, "\(packet.packetType)")
            #expect((size(fitted) ?? .max) <= 50, "\(packet.packetType)")
        }
    }

    @Test func publishAndTooManyReasonCodesAreNeverCut() {
        var properties = MQTTProperties()
        properties.userProperties = [UserProperty("part", "of the message")]
        let publish = MQTTPacket.publish(
            PublishPacket(topic: "t", payload: ByteBuffer(string: "payload"), qos: .atMostOnce, properties: properties))
        #expect(publish.fitted(toMaximumSize: publish.encodedSize(version: .v5) - 1, version: .v5) == nil)
        let subAck = MQTTPacket.subAck(SubAckPacket(packetIdentifier: 1, reasonCodes: Array(repeating: 1, count: 100)))
        #expect(subAck.fitted(toMaximumSize: 100, version: .v5) == nil)
        #expect(subAck.fitted(toMaximumSize: 105, version: .v5) == subAck)
    }

    @Test func theResultAlwaysFitsOrIsNil() async {
        let input = zip(Gen.int(in: 0...300), Gen.int(in: 0...5), Gen.int(in: 2...400))
        await propertyCheck(count: 300, input: input) { reasonLength, users, limit in
            let packet = MQTTPacket.pubAck(
                PubAckPacket(
                    packetIdentifier: 9, reasonCode: .unspecifiedError,
                    properties: withDiagnostics(reason: String(repeating: "r", count: reasonLength), users: users)))
            let minimal = MQTTPacket.pubAck(PubAckPacket(packetIdentifier: 9, reasonCode: .unspecifiedError))
            let fitted = packet.fitted(toMaximumSize: limit, version: .v5)
            if let fitted {
                #expect(fitted.encodedSize(version: .v5) <= limit)
            } else {
                #expect(minimal.encodedSize(version: .v5) > limit)
            }
        }
    }
}
