/// A topic with placeholders, such as `sensors/{identity}/{path}`, parsed once at startup.
public struct TopicTemplate: Sendable, Equatable, CustomStringConvertible {
    /// One piece of a template.
    public enum Part: Sendable, Equatable {
        /// Text copied as written.
        case literal(String)
        /// The request path after the prefix, joined by `/`.
        case path
        /// The DTLS PSK identity, empty for plain requests.
        case identity
        /// The client-side device name.
        case device
    }

    /// The parts in order.
    public private(set) var parts: [Part]
    /// The template as written.
    public let description: String
    /// A placeholder name that is not known, when the template has one.
    public private(set) var unknownPlaceholder: String?

    /// Parses `text`; unknown `{names}` are kept literally and reported through `unknownPlaceholder`.
    public init(parsing text: String) {
        description = text
        parts = []
        var literal = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            literal += rest[..<open]
            let afterOpen = rest.index(after: open)
            guard let close = rest[afterOpen...].firstIndex(of: "}") else {
                literal += rest[open...]
                rest = ""
                break
            }
            let name = String(rest[afterOpen..<close])
            let part: Part?
            switch name {
            case "path": part = .path
            case "identity": part = .identity
            case "device": part = .device
            default: part = nil
            }
            if let part {
                if !literal.isEmpty { parts.append(.literal(literal)) }
                literal = ""
                parts.append(part)
            } else {
                if unknownPlaceholder == nil { unknownPlaceholder = name }
                literal += rest[open...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        literal += rest
        if !literal.isEmpty { parts.append(.literal(literal)) }
    }

    /// Whether the template uses `placeholder`.
    public func uses(_ placeholder: Part) -> Bool { parts.contains(placeholder) }

    /// The topic for one request.
    public func render(path: String = "", identity: String = "", device: String = "") -> String {
        var topic = ""
        for part in parts {
            switch part {
            case .literal(let text): topic += text
            case .path: topic += path
            case .identity: topic += identity
            case .device: topic += device
            }
        }
        return topic
    }
}
