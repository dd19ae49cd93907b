import NIOCore

extension PluginJSON {
    /// Appends this value as compact JSON. Non-finite numbers, which JSON cannot express, are
    /// written as `null`.
    public func write(into buffer: inout ByteBuffer) {
        switch self {
        case .null: buffer.writeStaticString("null")
        case .bool(let value): JSONWriter.writeBool(value, into: &buffer)
        case .integer(let value): JSONWriter.writeInteger(value, into: &buffer)
        case .number(let value):
            if value.isFinite {
                // Swift prints the shortest form that reads back the same; "1e-05" is valid JSON.
                buffer.writeString(value.description)
            } else {
                buffer.writeStaticString("null")
            }
        case .string(let value): JSONWriter.writeString(value, into: &buffer)
        case .array(let elements):
            buffer.writeInteger(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                element.write(into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "]"))
        case .object(let members):
            buffer.writeInteger(UInt8(ascii: "{"))
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                JSONWriter.writeString(key, into: &buffer)
                buffer.writeInteger(UInt8(ascii: ":"))
                value.write(into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "}"))
        }
    }

    /// This value as compact JSON text.
    public var jsonText: String {
        var buffer = ByteBuffer()
        write(into: &buffer)
        return String(buffer: buffer)
    }
}
