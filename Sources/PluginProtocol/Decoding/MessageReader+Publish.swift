import NIOCore
import WharfCore

extension MessageReader {
    /// `publish`: topic, payload or payload_base64, qos, retain, id, properties.
    func publish() throws(DecodeFailure) -> PluginPublish {
        if let idProblem { throw invalid("publish: \(idProblem)") }
        let topic = try requiredText(members.topic, "publish", "topic")
        let qos = try qos(members.qos, "publish")
        if qos != .atMostOnce, id == nil { throw invalid("publish: 'id' is required at QoS 1 and 2") }
        var retain = false
        if let span = present(members.retain) {
            guard let value = reader.bool(span) else { throw invalid("publish: 'retain' must be a boolean") }
            retain = value
        }
        let payload = try payload()
        var properties = MessageProperties()
        if let span = present(members.properties) {
            properties = try self.properties(span)
        }
        return PluginPublish(id: id, topic: topic, payload: payload, qos: qos, retain: retain, properties: properties)
    }

    private func payload() throws(DecodeFailure) -> ByteBuffer {
        switch (present(members.payload), present(members.payloadBase64)) {
        case (.some, .some):
            throw invalid("publish: 'payload' and 'payload_base64' exclude each other")
        case (.some(let span), nil):
            guard let bytes = reader.stringBytes(span) else { throw invalid("publish: 'payload' must be a string") }
            return bytes
        case (nil, .some(let span)):
            guard let bytes = base64(span) else {
                throw invalid("publish: 'payload_base64' must be a base64 string")
            }
            var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            return buffer
        case (nil, nil):
            return ByteBuffer()
        }
    }

    /// The bytes of a base64 string member, or nil when it is not one.
    func base64(_ span: JSONSpan) -> [UInt8]? {
        guard reader.kind(of: span) == .string else { return nil }
        // Base64 text never needs escapes; an escaped one is decoded first to stay exact.
        if span.hasEscapes {
            return reader.string(span).flatMap { Base64.decode($0) }
        }
        return Base64.decode(reader.rawStringBody(span))
    }

    /// The `properties` object.
    private func properties(_ span: JSONSpan) throws(DecodeFailure) -> MessageProperties {
        guard reader.kind(of: span) == .object else { throw invalid("publish: 'properties' must be an object") }
        var properties = MessageProperties()
        var problem: DecodeFailure?
        reader.forEachMember(span) { key, value in
            guard problem == nil, reader.kind(of: value) != .null else { return }
            do throws(DecodeFailure) {
                try property(key, value, into: &properties)
            } catch {
                problem = error
            }
        }
        if let problem { throw problem }
        return properties
    }

    private func property(_ key: String, _ value: JSONSpan, into properties: inout MessageProperties)
        throws(DecodeFailure)
    {
        switch key {
        case "content_type":
            properties.contentType = try optionalString(value, "publish", "properties.content_type")
        case "response_topic":
            properties.responseTopic = try requiredString(value, "publish", "properties.response_topic")
        case "payload_format_utf8":
            guard let flag = reader.bool(value) else {
                throw invalid("publish: 'properties.payload_format_utf8' must be a boolean")
            }
            properties.payloadFormatIndicator = flag ? 1 : 0
        case "message_expiry":
            guard case .nonNegative(let seconds) = reader.integer(value), seconds <= UInt64(UInt32.max) else {
                throw invalid("publish: 'properties.message_expiry' must be an integer 0...4294967295")
            }
            properties.messageExpiryInterval = UInt32(seconds)
        case "correlation_data_base64":
            guard let bytes = base64(value) else {
                throw invalid("publish: 'properties.correlation_data_base64' must be a base64 string")
            }
            properties.correlationData = bytes
        case "user_properties":
            properties.userProperties = try userProperties(value)
        default:
            break
        }
    }

    /// `[[name, value], ...]`.
    private func userProperties(_ span: JSONSpan) throws(DecodeFailure) -> [UserProperty] {
        let problem = invalid("publish: 'properties.user_properties' must be an array of [name, value] string pairs")
        guard reader.kind(of: span) == .array else { throw problem }
        var result: [UserProperty] = []
        var valid = true
        reader.forEachElement(span) { pair in
            var strings: [String] = []
            if reader.kind(of: pair) == .array {
                reader.forEachElement(pair) { element in
                    if let text = reader.string(element) { strings.append(text) } else { valid = false }
                }
            }
            guard strings.count == 2 else {
                valid = false
                return
            }
            result.append(UserProperty(strings[0], strings[1]))
        }
        guard valid else { throw problem }
        return result
    }
}
