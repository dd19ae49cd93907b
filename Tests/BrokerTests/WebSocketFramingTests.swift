import MQTTCodec
import NIOCore
import NIOEmbedded
import NIOWebSocket
import PropertyBased
import Testing

@testable import Broker

/// A frame as a client sends it: masked (RFC 6455 §5.3).
private func clientFrame(fin: Bool, opcode: WebSocketOpcode, data: ByteBuffer) -> WebSocketFrame {
    let key: WebSocketMaskingKey = [0x5A, 0x17, 0xC3, 0x08]
    var masked = data
    masked.webSocketMask(key)
    return WebSocketFrame(fin: fin, opcode: opcode, maskKey: key, data: masked)
}

@Suite struct WebSocketFramingTests {
    private func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

    @Test func binaryAndContinuationFramesCarryTheirBytes() {
        let data = buffer([0x30, 0x03, 0x00, 0x01, 0x61])
        #expect(WebSocketFraming.action(for: clientFrame(fin: false, opcode: .binary, data: data)) == .deliver(data))
        #expect(
            WebSocketFraming.action(for: clientFrame(fin: true, opcode: .continuation, data: data)) == .deliver(data)
        )
        #expect(WebSocketFraming.action(for: clientFrame(fin: true, opcode: .binary, data: buffer([]))) == .ignore)
    }

    @Test func maskedFramesAreUnmasked() {
        let key: WebSocketMaskingKey = [0x11, 0x22, 0x33, 0x44]
        var masked = buffer([0xC0, 0x00])
        masked.webSocketMask(key)
        let frame = WebSocketFrame(fin: true, opcode: .binary, maskKey: key, data: masked)
        #expect(WebSocketFraming.action(for: frame) == .deliver(buffer([0xC0, 0x00])))
    }

    @Test func controlAndTextFrames() {
        let data = buffer([1, 2, 3])
        #expect(WebSocketFraming.action(for: clientFrame(fin: true, opcode: .ping, data: data)) == .pong(data))
        #expect(WebSocketFraming.action(for: clientFrame(fin: true, opcode: .pong, data: data)) == .ignore)
        #expect(
            WebSocketFraming.action(for: clientFrame(fin: true, opcode: .connectionClose, data: data))
                == .closeAcknowledged)
        // MQTT-6.0.0-1: a data frame that is not binary closes the connection.
        #expect(
            WebSocketFraming.action(for: clientFrame(fin: true, opcode: .text, data: buffer([0x7B])))
                == .close(.unacceptableData))
    }

    /// RFC 6455 §5.1: a server closes the connection with 1002 on a frame the client did not mask.
    @Test(arguments: [WebSocketOpcode.binary, .continuation, .ping, .pong, .connectionClose, .text])
    func unmaskedFramesCloseWithProtocolError(opcode: WebSocketOpcode) {
        let frame = WebSocketFrame(fin: true, opcode: opcode, data: buffer([0xC0, 0x00]))
        #expect(WebSocketFraming.action(for: frame) == .close(.protocolError))
    }

    @Test func anUnmaskedFrameClosesTheConnectionAndReachesNoMQTT() throws {
        let channel = EmbeddedChannel(handler: WebSocketMQTTHandler())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(WebSocketFrame(fin: true, opcode: .binary, data: buffer([0xC0, 0x00])))
        var close = try #require(try channel.readOutbound(as: WebSocketFrame.self))
        #expect(close.opcode == .connectionClose)
        #expect(close.data.readWebSocketErrorCode() == .protocolError)
        #expect(!channel.isActive)
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
    }

    @Test(
        arguments: [
            (["mqtt"], "mqtt"), (["wamp, MQTT"], "mqtt"), (["chat", "mqtt"], "mqtt"), (["mqttv3.1"], "mqttv3.1"),
            (["mqttv3.1,mqtt"], "mqtt"), ([], nil), (["chat"], nil), (["mqtt5"], nil), ([" mqtt "], "mqtt"),
        ] as [([String], String?)]
    )
    func theMQTTSubprotocolIsChosen(offered: [String], chosen: String?) {
        #expect(WebSocketFraming.subprotocol(offered: offered) == chosen)
    }

    @Test func outgoingBytesGoInOneFinalBinaryFrame() {
        let frame = WebSocketFraming.frame(carrying: buffer([0xD0, 0x00]))
        #expect(frame.fin && frame.opcode == .binary && frame.maskKey == nil)
        #expect(frame.data == buffer([0xD0, 0x00]))
    }

    /// However the client cuts the MQTT byte stream into frames (a packet over several frames,
    /// several packets in one), the handler hands on exactly the stream, in order.
    @Test func anyFramingYieldsTheSameStream() async {
        let input = zip(Gen.int(in: 0...255).array(of: 1...600), Gen.int(in: 1...64).array(of: 1...40))
        await propertyCheck(count: 200, input: input) { stream, cuts in
            let channel = EmbeddedChannel(handler: WebSocketMQTTHandler())
            var offset = 0
            var first = true
            for cut in cuts + [stream.count] where offset < stream.count {
                let end = min(stream.count, offset + cut)
                let frame = clientFrame(
                    fin: end == stream.count, opcode: first ? .binary : .continuation,
                    data: ByteBuffer(bytes: stream[offset..<end].map { UInt8($0) }))
                try? channel.writeInbound(frame)
                offset = end
                first = false
            }
            var received: [UInt8] = []
            while let part = try? channel.readInbound(as: ByteBuffer.self) {
                received += Array(part.readableBytesView)
            }
            #expect(received == stream.map { UInt8($0) })
            _ = try? channel.finish()
        }
    }

    @Test func pingIsAnsweredAndTextClosesWithUnacceptableData() throws {
        let channel = EmbeddedChannel(handler: WebSocketMQTTHandler())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(clientFrame(fin: true, opcode: .ping, data: buffer([9])))
        let pong = try #require(try channel.readOutbound(as: WebSocketFrame.self))
        #expect(pong.opcode == .pong && pong.data == buffer([9]))

        try channel.writeInbound(clientFrame(fin: true, opcode: .text, data: buffer([0x41])))
        var close = try #require(try channel.readOutbound(as: WebSocketFrame.self))
        #expect(close.opcode == .connectionClose)
        #expect(close.data.readWebSocketErrorCode() == .unacceptableData)
        #expect(!channel.isActive)
        // Nothing read after the close reaches MQTT.
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
    }

    @Test func writesBecomeBinaryFrames() throws {
        let channel = EmbeddedChannel(handler: WebSocketMQTTHandler())
        try channel.writeOutbound(buffer([0x20, 0x02, 0x00, 0x00]))
        let frame = try #require(try channel.readOutbound(as: WebSocketFrame.self))
        #expect(frame.opcode == .binary && frame.fin && frame.data == buffer([0x20, 0x02, 0x00, 0x00]))
        _ = try channel.finish()
    }
}
