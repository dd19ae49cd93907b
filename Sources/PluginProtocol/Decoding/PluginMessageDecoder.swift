import NIOCore
import WharfCore

/// WharfCore's QoS under a name that does not clash with members called `qos`.
typealias QoSValue = QoS

/// Decodes the lines a plugin writes (docs/plugins.md, "Messages from the plugin").
///
/// The line is checked once for UTF-8 and once for JSON syntax; the members a message needs are
/// then read from their recorded spans and the rest are skipped without building anything.
/// Unknown members are ignored. When a member appears twice, the last one wins (as in most JSON
/// readers). An optional member whose value is `null` counts as absent.
public enum PluginMessageDecoder {
    /// Decodes one line (without its newline).
    public static func decode(_ line: ByteBuffer) -> Result<PluginMessage, DecodeFailure> {
        line.withUnsafeReadableBytes { decode(bytes: $0) }
    }

    /// Decodes one line held in `bytes`.
    public static func decode(bytes: UnsafeRawBufferPointer) -> Result<PluginMessage, DecodeFailure> {
        // Spans keep 32-bit offsets; the framer's limit (at most 64 MiB) is far below.
        guard bytes.count < Int(UInt32.max) else {
            return .failure(DecodeFailure(kind: .invalid, detail: "a line of \(bytes.count) bytes is too long"))
        }
        guard UTF8Validation.isValid(bytes) else {
            return .failure(DecodeFailure(kind: .invalidUTF8, detail: "the line is not valid UTF-8"))
        }
        var members = TopLevelMembers()
        let reader = JSONSpanReader(bytes: bytes)
        var scanner = JSONScanner(bytes)
        do throws(JSONSyntaxError) {
            guard let first = scanner.peek() else { throw scanner.fail("empty line") }
            if first == UInt8(ascii: "{") {
                try scanner.scanObject(depth: 1) { key, value throws(JSONSyntaxError) in
                    if key.hasEscapes {
                        members.record(reader.string(key) ?? "", value)
                    } else {
                        // The common case: the key's bytes between its quotes, compared without a String.
                        members.record(
                            UnsafeRawBufferPointer(rebasing: bytes[(key.start + 1)..<(key.end - 1)]), value)
                    }
                }
            } else {
                _ = try scanner.scanValue(depth: 0)
            }
            scanner.skipWhitespace()
            guard scanner.isAtEnd else { throw scanner.fail("unexpected data after the value") }
            guard first == UInt8(ascii: "{") else {
                return .failure(DecodeFailure(kind: .notAnObject, detail: "a line must hold a JSON object"))
            }
        } catch {
            return .failure(DecodeFailure(kind: .invalidJSON, detail: "invalid JSON: \(error.description)"))
        }
        var message = MessageReader(reader: reader, members: members)
        return message.decode()
    }
}

/// The spans of the top-level members the plugin's messages use.
struct TopLevelMembers {
    var type: JSONSpan?
    var id: JSONSpan?
    var topic: JSONSpan?
    var payload: JSONSpan?
    var payloadBase64: JSONSpan?
    var qos: JSONSpan?
    var retain: JSONSpan?
    var properties: JSONSpan?
    var protocolVersion: JSONSpan?
    var name: JSONSpan?
    var version: JSONSpan?
    var capabilities: JSONSpan?
    var subscriptions: JSONSpan?
    var status: JSONSpan?
    var message: JSONSpan?
    var level: JSONSpan?
    var fields: JSONSpan?

    /// ``record(_:_:)`` for a key without escapes, given as its bytes: the same names, matched
    /// on length and bytes so that no String is made for each key of each line.
    mutating func record(_ key: UnsafeRawBufferPointer, _ value: JSONSpan) {
        func equals(_ name: StaticString) -> Bool {
            name.utf8CodeUnitCount == key.count && name.withUTF8Buffer { $0.elementsEqual(key) }
        }
        guard key.count > 0 else { return }
        switch key[0] {
        case UInt8(ascii: "t"): if equals("type") { type = value } else if equals("topic") { topic = value }
        case UInt8(ascii: "i"): if equals("id") { id = value }
        case UInt8(ascii: "p"):
            if equals("payload") {
                payload = value
            } else if equals("payload_base64") {
                payloadBase64 = value
            } else if equals("properties") {
                properties = value
            } else if equals("protocol") {
                protocolVersion = value
            }
        case UInt8(ascii: "q"): if equals("qos") { qos = value }
        case UInt8(ascii: "r"): if equals("retain") { retain = value }
        case UInt8(ascii: "n"): if equals("name") { name = value }
        case UInt8(ascii: "v"): if equals("version") { version = value }
        case UInt8(ascii: "c"): if equals("capabilities") { capabilities = value }
        case UInt8(ascii: "s"):
            if equals("subscriptions") { subscriptions = value } else if equals("status") { status = value }
        case UInt8(ascii: "m"): if equals("message") { message = value }
        case UInt8(ascii: "l"): if equals("level") { level = value }
        case UInt8(ascii: "f"): if equals("fields") { fields = value }
        default: break
        }
    }

    /// Keeps the span of a member the decoder may need; a repeated member replaces the earlier one.
    mutating func record(_ key: String, _ value: JSONSpan) {
        switch key {
        case "type": type = value
        case "id": id = value
        case "topic": topic = value
        case "payload": payload = value
        case "payload_base64": payloadBase64 = value
        case "qos": qos = value
        case "retain": retain = value
        case "properties": properties = value
        case "protocol": protocolVersion = value
        case "name": name = value
        case "version": version = value
        case "capabilities": capabilities = value
        case "subscriptions": subscriptions = value
        case "status": status = value
        case "message": message = value
        case "level": level = value
        case "fields": fields = value
        default: break
        }
    }
}

/// Reads one message from the spans of its members.
struct MessageReader {
    let reader: JSONSpanReader
    let members: TopLevelMembers
    /// The object's id when it is valid, for the failure's nack.
    private(set) var id: MessageID?
    /// Why the id is not valid, when it is present and not.
    private(set) var idProblem: String?

    init(reader: JSONSpanReader, members: TopLevelMembers) {
        self.reader = reader
        self.members = members
        if let span = present(members.id) {
            switch Self.messageID(span, reader) {
            case .success(let value): id = value
            case .failure(let problem): idProblem = problem.detail
            }
        }
    }

    mutating func decode() -> Result<PluginMessage, DecodeFailure> {
        guard let typeSpan = members.type, let type = reader.string(typeSpan) else {
            return .failure(DecodeFailure(kind: .missingType, id: id, detail: "the object has no string 'type'"))
        }
        do throws(DecodeFailure) {
            switch type {
            case "publish": return .success(.publish(try publish()))
            case "ready": return .success(.ready(try ready()))
            case "health": return .success(.health(try health()))
            case "log": return .success(.log(try log()))
            default:
                let shown = type.utf8.count <= 64 ? type : String(type.prefix(64)) + "..."
                return .failure(DecodeFailure(kind: .unknownType, id: id, detail: "unknown type '\(shown)'"))
            }
        } catch {
            return .failure(error)
        }
    }

    /// The span unless the member is absent or `null`.
    func present(_ span: JSONSpan?) -> JSONSpan? {
        guard let span, reader.kind(of: span) != .null else { return nil }
        return span
    }

    func invalid(_ detail: String) -> DecodeFailure {
        DecodeFailure(kind: .invalid, id: id, detail: detail)
    }

    /// An id: a string of at most 64 bytes or an integer in 0...2^53.
    static func messageID(_ span: JSONSpan, _ reader: JSONSpanReader) -> Result<MessageID, DecodeFailure> {
        let problem = DecodeFailure(
            kind: .invalid,
            detail: "'id' must be a string of at most \(MessageID.maxStringBytes) bytes or an integer 0...2^53"
        )
        if let text = reader.string(span) {
            return text.utf8.count <= MessageID.maxStringBytes ? .success(.string(text)) : .failure(problem)
        }
        if case .nonNegative(let value) = reader.integer(span), value <= MessageID.maxInteger {
            return .success(.number(value))
        }
        return .failure(problem)
    }

    /// A required non-empty string member.
    func requiredString(_ span: JSONSpan?, _ type: String, _ name: String) throws(DecodeFailure) -> String {
        guard let span = present(span), let text = reader.string(span), !text.isEmpty else {
            throw invalid("\(type): '\(name)' must be a non-empty string")
        }
        return text
    }

    /// A required string member that may be empty (a topic: the router, not the codec, judges
    /// whether it is a valid topic name, and answers `topic-invalid`).
    func requiredText(_ span: JSONSpan?, _ type: String, _ name: String) throws(DecodeFailure) -> String {
        guard let span = present(span), let text = reader.string(span) else {
            throw invalid("\(type): '\(name)' must be a string")
        }
        return text
    }

    /// An optional string member.
    func optionalString(_ span: JSONSpan?, _ type: String, _ name: String) throws(DecodeFailure) -> String? {
        guard let span = present(span) else { return nil }
        guard let text = reader.string(span) else { throw invalid("\(type): '\(name)' must be a string") }
        return text
    }

    /// An optional QoS member, 0 when absent.
    func qos(_ span: JSONSpan?, _ type: String) throws(DecodeFailure) -> QoSValue {
        guard let span = present(span) else { return .atMostOnce }
        guard case .nonNegative(let value) = reader.integer(span), value <= 2,
            let qos = QoSValue(rawValue: UInt8(value))
        else { throw invalid("\(type): 'qos' must be 0, 1 or 2") }
        return qos
    }
}
