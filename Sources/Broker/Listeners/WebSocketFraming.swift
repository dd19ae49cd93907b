import NIOCore
import NIOWebSocket

/// What MQTT over WebSocket makes of each frame a client sends (MQTT 5 §6, MQTT 3.1.1 §6):
/// the MQTT bytes are the concatenated payloads of the binary data frames, in order, whatever
/// the frame boundaries (a packet may span frames, a frame may hold several packets). Pure.
enum WebSocketFraming {
    /// What to do with one frame.
    enum Action: Equatable {
        /// Hand these bytes to the MQTT decoder.
        case deliver(ByteBuffer)
        /// Answer a ping with a pong carrying the same data.
        case pong(ByteBuffer)
        /// Nothing (a pong, or an empty data frame).
        case ignore
        /// Answer the client's close and close the connection.
        case closeAcknowledged
        /// Close the connection with this status: a text frame is not MQTT (MQTT-6.0.0-1), an
        /// unmasked frame or an unknown opcode breaks the WebSocket protocol.
        case close(WebSocketErrorCode)
    }

    /// The action for a frame a client sent.
    static func action(for frame: WebSocketFrame) -> Action {
        // RFC 6455 §5.1: a client masks every frame, and a server closes the connection on one
        // that is not masked (1002). The mask keeps a client's bytes from being read as another
        // protocol by proxies between it and the broker.
        guard frame.maskKey != nil else { return .close(.protocolError) }
        switch frame.opcode {
        case .binary, .continuation:
            let data = frame.unmaskedData
            return data.readableBytes == 0 ? .ignore : .deliver(data)
        case .text:
            return .close(.unacceptableData)
        case .ping:
            return .pong(frame.unmaskedData)
        case .pong:
            return .ignore
        case .connectionClose:
            return .closeAcknowledged
        default:
            return .close(.protocolError)
        }
    }

    /// The frame that carries `bytes` (one or more whole MQTT packets) to the client: one final
    /// binary frame, unmasked, as a server sends.
    static func frame(carrying bytes: ByteBuffer) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .binary, data: bytes)
    }

    /// The subprotocol to answer with, of those the client offered (`Sec-WebSocket-Protocol`,
    /// comma separated, possibly over several header lines): `mqtt`, or `mqttv3.1` for clients of
    /// MQTT 3.1's time; `nil` when the client offered neither.
    static func subprotocol(offered: [String]) -> String? {
        let names = offered.flatMap { $0.split(separator: ",") }.map {
            $0.trimmingCharacters(in: " \t").lowercased()
        }
        if names.contains("mqtt") { return "mqtt" }
        if names.contains("mqttv3.1") { return "mqttv3.1" }
        return nil
    }
}

extension Substring {
    /// The text without the given characters at either end.
    fileprivate func trimmingCharacters(in set: String) -> String {
        var slice = self[...]
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
