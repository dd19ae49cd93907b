/// Readable (indented) output, for `wharfctl config sign`; what is signed is the canonical form.
extension JSONValue {
    /// The value indented by two spaces, keys in document order; `nil` when a number cannot be written.
    public func prettyText(indent: String = "") -> Result<String, CanonicalEncodingError> {
        var output = ""
        do {
            try write(into: &output, indent: indent, path: "")
            return .success(output)
        } catch {
            return .failure(error)
        }
    }

    private func write(into output: inout String, indent: String, path: String) throws(CanonicalEncodingError) {
        switch self {
        case .null, .bool, .string:
            // Scalars are written as in the canonical form.
            var bytes: [UInt8] = []
            switch self {
            case .null: bytes = Array("null".utf8)
            case .bool(let flag): bytes = Array((flag ? "true" : "false").utf8)
            case .string(let text): Self.writeString(text, into: &bytes)
            default: break
            }
            output += String(decoding: bytes, as: UTF8.self)
        case .number(let number):
            switch Self.canonical(number, path: path) {
            case .success(let text): output += text
            case .failure(let error): throw error
            }
        case .array(let elements):
            if elements.isEmpty {
                output += "[]"
                return
            }
            output += "[\n"
            for (index, element) in elements.enumerated() {
                output += indent + "  "
                try element.write(into: &output, indent: indent + "  ", path: JSONPath.index(index, in: path))
                output += index == elements.count - 1 ? "\n" : ",\n"
            }
            output += indent + "]"
        case .object(let members):
            if members.isEmpty {
                output += "{}"
                return
            }
            output += "{\n"
            for (index, member) in members.enumerated() {
                var key: [UInt8] = []
                Self.writeString(member.key, into: &key)
                output += indent + "  " + String(decoding: key, as: UTF8.self) + ": "
                try member.value.write(into: &output, indent: indent + "  ", path: JSONPath.key(member.key, in: path))
                output += index == members.count - 1 ? "\n" : ",\n"
            }
            output += indent + "}"
        }
    }
}
