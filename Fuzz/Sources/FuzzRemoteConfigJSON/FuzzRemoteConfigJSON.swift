import FuzzSupport
import RemoteConfig

/// A remote configuration document's bytes through the strict JSON parser, the canonical form and
/// the document reader.
///
/// Invariants: whatever parses and has a canonical form parses again from that form, to a value
/// with the same canonical form (canonicalization is idempotent) and with the same shape; the
/// document reader returns a document or a rejection, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRemoteConfigJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    _ = RemoteConfigDocument.parse(input.bytes)
    guard case .success(let value) = JSONParser.parse(input.bytes) else { return 0 }
    _ = value.prettyText()
    guard case .success(let canonical) = value.canonicalBytes() else { return 0 }
    guard case .success(let again) = JSONParser.parse(canonical) else {
        fuzzFailure("canonical form does not parse: \(String(decoding: canonical, as: UTF8.self))")
    }
    guard case .success(let canonicalAgain) = again.canonicalBytes(), canonicalAgain == canonical else {
        fuzzFailure("canonical form is not stable: \(String(decoding: canonical, as: UTF8.self))")
    }
    if !sameShape(value, again) {
        fuzzFailure("canonical form changes the value: \(String(decoding: canonical, as: UTF8.self))")
    }
    return 0
}

/// Same structure, strings and literals; numbers may be respelled by the canonical form
/// (`1.0` becomes `1`) and object members reordered (they are sorted by key).
func sameShape(_ left: JSONValue, _ right: JSONValue) -> Bool {
    switch (left, right) {
    case (.null, .null), (.number, .number): return true
    case (.bool(let a), .bool(let b)): return a == b
    case (.string(let a), .string(let b)): return a == b
    case (.array(let a), .array(let b)):
        return a.count == b.count && zip(a, b).allSatisfy { sameShape($0, $1) }
    case (.object(let a), .object(let b)):
        guard a.count == b.count else { return false }
        return a.allSatisfy { member in right[member.key].map { sameShape(member.value, $0) } ?? false }
    default: return false
    }
}

/// libFuzzer's driver around `fuzzRemoteConfigJSON`.
@main
enum FuzzRemoteConfigJSONMain {
    static func main() { runLibFuzzer(fuzzRemoteConfigJSON) }
}
