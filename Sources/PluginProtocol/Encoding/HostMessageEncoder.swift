import NIOCore
import WharfCore

/// Writes the host's lines (docs/plugins.md, "Messages from the host").
public enum HostMessageEncoder {
    /// Appends `message` as one JSON line, ended by `\n`.
    public static func encode(_ message: HostMessage, into buffer: inout ByteBuffer) {
        switch message {
        case .initialize(let initMessage):
            encode(initMessage, into: &buffer)
        case .ack(let id):
            buffer.writeStaticString("{\"type\":\"ack\"")
            writeID(id, into: &buffer)
            buffer.writeInteger(UInt8(ascii: "}"))
        case .nack(let id, let reason, let text):
            buffer.writeStaticString("{\"type\":\"nack\"")
            writeID(id, into: &buffer)
            JSONWriter.writeNextKey("reason", into: &buffer)
            JSONWriter.writeString(reason, into: &buffer)
            JSONWriter.writeNextKey("message", into: &buffer)
            JSONWriter.writeString(text, into: &buffer)
            buffer.writeInteger(UInt8(ascii: "}"))
        case .command(let command):
            encode(command, into: &buffer)
        case .healthPing:
            buffer.writeStaticString("{\"type\":\"health\"}")
        case .shutdown(let grace):
            buffer.writeStaticString("{\"type\":\"shutdown\",\"grace_ms\":")
            JSONWriter.writeInteger(max(0, grace), into: &buffer)
            buffer.writeInteger(UInt8(ascii: "}"))
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    /// One line as a String (tests, the conformance kit's report).
    public static func line(_ message: HostMessage) -> String {
        var buffer = ByteBuffer()
        encode(message, into: &buffer)
        return String(buffer: buffer)
    }

    private static func writeID(_ id: MessageID, into buffer: inout ByteBuffer) {
        JSONWriter.writeNextKey("id", into: &buffer)
        switch id {
        case .string(let text): JSONWriter.writeString(text, into: &buffer)
        case .number(let value): JSONWriter.writeInteger(value, into: &buffer)
        }
    }

    private static func encode(_ message: InitMessage, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"type\":\"init\",\"protocol\":{\"min\":")
        JSONWriter.writeInteger(message.protocolRange.lowerBound, into: &buffer)
        buffer.writeStaticString(",\"max\":")
        JSONWriter.writeInteger(message.protocolRange.upperBound, into: &buffer)
        buffer.writeInteger(UInt8(ascii: "}"))
        JSONWriter.writeNextKey("capabilities", into: &buffer)
        PluginJSON.array(message.capabilities.map { .string($0) }).write(into: &buffer)
        JSONWriter.writeNextKey("name", into: &buffer)
        JSONWriter.writeString(message.name, into: &buffer)
        JSONWriter.writeNextKey("config", into: &buffer)
        message.config.write(into: &buffer)
        JSONWriter.writeNextKey("credit", into: &buffer)
        JSONWriter.writeInteger(message.credit, into: &buffer)
        JSONWriter.writeNextKey("max_line_bytes", into: &buffer)
        JSONWriter.writeInteger(message.maxLineBytes, into: &buffer)
        JSONWriter.writeNextKey("health_interval_ms", into: &buffer)
        JSONWriter.writeInteger(message.healthIntervalMilliseconds, into: &buffer)
        buffer.writeStaticString(",\"wharf\":{\"version\":")
        JSONWriter.writeString(message.wharfVersion, into: &buffer)
        buffer.writeStaticString("}}")
    }

    private static func encode(_ command: CommandMessage, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"type\":\"command\",\"topic\":")
        JSONWriter.writeString(command.topic, into: &buffer)
        command.payload.withUnsafeReadableBytes { bytes in
            // Text travels as text so that plugins read it without decoding; other bytes as base64.
            if UTF8Validation.isValid(bytes) {
                JSONWriter.writeNextKey("payload", into: &buffer)
                JSONWriter.writeString(bytes, into: &buffer)
            } else {
                JSONWriter.writeNextKey("payload_base64", into: &buffer)
                buffer.writeInteger(UInt8(ascii: "\""))
                Base64.encode(bytes, into: &buffer)
                buffer.writeInteger(UInt8(ascii: "\""))
            }
        }
        JSONWriter.writeNextKey("qos", into: &buffer)
        JSONWriter.writeInteger(command.qos.rawValue, into: &buffer)
        JSONWriter.writeNextKey("retain", into: &buffer)
        JSONWriter.writeBool(command.retain, into: &buffer)
        writeProperties(command.properties, into: &buffer)
        buffer.writeInteger(UInt8(ascii: "}"))
    }

    /// Appends `,"properties":{...}` unless every property is absent.
    private static func writeProperties(_ properties: MessageProperties, into buffer: inout ByteBuffer) {
        guard properties != MessageProperties() else { return }
        JSONWriter.writeNextKey("properties", into: &buffer)
        buffer.writeInteger(UInt8(ascii: "{"))
        var first = true
        func key(_ name: StaticString) {
            if first { JSONWriter.writeKey(name, into: &buffer) } else { JSONWriter.writeNextKey(name, into: &buffer) }
            first = false
        }
        if let contentType = properties.contentType {
            key("content_type")
            JSONWriter.writeString(contentType, into: &buffer)
        }
        if let indicator = properties.payloadFormatIndicator {
            key("payload_format_utf8")
            JSONWriter.writeBool(indicator == 1, into: &buffer)
        }
        if let expiry = properties.messageExpiryInterval {
            key("message_expiry")
            JSONWriter.writeInteger(expiry, into: &buffer)
        }
        if let responseTopic = properties.responseTopic {
            key("response_topic")
            JSONWriter.writeString(responseTopic, into: &buffer)
        }
        if let correlation = properties.correlationData {
            key("correlation_data_base64")
            buffer.writeInteger(UInt8(ascii: "\""))
            correlation.withUnsafeBytes { Base64.encode($0, into: &buffer) }
            buffer.writeInteger(UInt8(ascii: "\""))
        }
        if !properties.userProperties.isEmpty {
            key("user_properties")
            buffer.writeInteger(UInt8(ascii: "["))
            for (index, property) in properties.userProperties.enumerated() {
                buffer.writeStaticString(index == 0 ? "[" : ",[")
                JSONWriter.writeString(property.name, into: &buffer)
                buffer.writeInteger(UInt8(ascii: ","))
                JSONWriter.writeString(property.value, into: &buffer)
                buffer.writeInteger(UInt8(ascii: "]"))
            }
            buffer.writeInteger(UInt8(ascii: "]"))
        }
        buffer.writeInteger(UInt8(ascii: "}"))
    }
}
