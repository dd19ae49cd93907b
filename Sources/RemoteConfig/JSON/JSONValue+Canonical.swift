/// RFC 8785 JSON Canonicalization Scheme (JCS): the bytes that are signed.
///
/// Object keys sorted by their UTF-16 code units, no whitespace, strings with the minimal escapes
/// of ECMAScript's `JSON.stringify`, numbers in ECMAScript's form. Wharf restricts numbers to what
/// it can canonicalize exactly: integers written without fraction or exponent must lie within
/// ±2^53 (larger ones would be rounded by any IEEE reader, so they are refused rather than signed
/// in a form that changes their value), and other numbers are read as finite IEEE doubles, refused
/// too when their canonical text is such an integer.
extension JSONValue {
    /// The largest integer magnitude a double holds exactly: 2^53.
    public static let maximumExactInteger = 9_007_199_254_740_992

    /// The canonical bytes, or the first value that cannot be canonicalized (with its key path).
    public func canonicalBytes() -> Result<[UInt8], CanonicalEncodingError> {
        var output: [UInt8] = []
        do {
            try Self.write(self, path: "", into: &output)
            return .success(output)
        } catch {
            return .failure(error)
        }
    }

    /// The canonical text, as `canonicalBytes()`.
    public func canonicalText() -> Result<String, CanonicalEncodingError> {
        canonicalBytes().map { String(decoding: $0, as: UTF8.self) }
    }

    /// Every number in the value that cannot be canonicalized exactly, with its key path.
    public func canonicalizationProblems(path: String = "") -> [CanonicalEncodingError] {
        switch self {
        case .null, .bool, .string: return []
        case .number(let number):
            if case .failure(let error) = Self.canonical(number, path: path) { return [error] }
            return []
        case .array(let elements):
            return elements.enumerated().flatMap { index, element in
                element.canonicalizationProblems(path: JSONPath.index(index, in: path))
            }
        case .object(let members):
            return members.flatMap { $0.value.canonicalizationProblems(path: JSONPath.key($0.key, in: path)) }
        }
    }

    /// The canonical text of one number.
    static func canonical(_ number: JSONNumber, path: String) -> Result<String, CanonicalEncodingError> {
        if number.isIntegerLiteral {
            guard let value = number.intValue, value.magnitude <= UInt(maximumExactInteger) else {
                return .failure(
                    CanonicalEncodingError(
                        path: path,
                        message: "the integer \(number.literal) is beyond ±2^53 and cannot be signed exactly; "
                            + "write it as a string"
                    )
                )
            }
            return .success(String(value))
        }
        guard let value = number.doubleValue, let text = ECMAScriptNumber.format(value) else {
            return .failure(CanonicalEncodingError(path: path, message: "the number \(number.literal) is out of range"))
        }
        // ECMAScript writes integers below 10^21 in plain digits: `1e16` becomes `10000000000000000`,
        // an integer literal the rule above refuses, so the canonical form would not read back.
        if value.magnitude > Double(maximumExactInteger), !text.contains(where: { $0 == "." || $0 == "e" }) {
            return .failure(
                CanonicalEncodingError(
                    path: path,
                    message: "the number \(number.literal) is the integer \(text), beyond ±2^53, and cannot be "
                        + "signed exactly; write it as a string"
                )
            )
        }
        return .success(text)
    }

    private static func write(_ value: JSONValue, path: String, into output: inout [UInt8])
        throws(CanonicalEncodingError)
    {
        switch value {
        case .null: output += Array("null".utf8)
        case .bool(let flag): output += Array((flag ? "true" : "false").utf8)
        case .number(let number):
            switch canonical(number, path: path) {
            case .success(let text): output += Array(text.utf8)
            case .failure(let error): throw error
            }
        case .string(let text): writeString(text, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                try write(element, path: JSONPath.index(index, in: path), into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            let sorted = members.sorted { $0.key.utf16.lexicographicallyPrecedes($1.key.utf16) }
            for (index, member) in sorted.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                writeString(member.key, into: &output)
                output.append(UInt8(ascii: ":"))
                try write(member.value, path: JSONPath.key(member.key, in: path), into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// A string as `JSON.stringify` writes it: only `"`, `\` and control characters are escaped.
    static func writeString(_ text: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): output += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x08: output += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x09: output += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x0A: output += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0C: output += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x0D: output += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0..<0x20:
                let digits = Array("0123456789abcdef".utf8)
                output += Array("\\u00".utf8) + [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}

/// A value that has no exact canonical form (a number beyond what RFC 8785 can carry exactly).
public struct CanonicalEncodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Key path of the value.
    public var path: String
    /// What is wrong.
    public var message: String

    /// `path: message`.
    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}
