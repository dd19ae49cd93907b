import FuzzSupport
import WharfConfig

/// Reads the input as a wharf.yaml: a configuration or errors, never a crash. Byte 0 picks YAML
/// (even) or the JSON form the admin API accepts (odd).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigReader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let asJSON = input.take() & 1 == 1
    let text = String(decoding: input.rest, as: UTF8.self)
    let result =
        asJSON
        ? ConfigLoader.load(json: text, file: "fuzz.json") : ConfigLoader.load(yaml: text, file: "fuzz.yaml")
    if case .failure(let error) = result, "\(error)".isEmpty {
        fuzzFailure("an error without a message")
    }
    return 0
}

/// libFuzzer's driver around `fuzzConfigReader`.
@main
enum FuzzConfigReaderMain {
    static func main() { runLibFuzzer(fuzzConfigReader) }
}
