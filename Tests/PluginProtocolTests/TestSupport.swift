import NIOCore
import PluginProtocol
import PropertyBased
import Testing

/// Generators and helpers shared by the suites.
enum TestGen {
    /// JSON's special characters, controls and some non-ASCII.
    static let specials: [UInt32] = [
        0x00, 0x01, 0x0A, 0x0D, 0x1F, 0x22, 0x5C, 0x2F, 0x7F, 0xE9, 0x2028, 0x20AC, 0x1F600,
    ]

    /// One scalar: mostly printable ASCII, often a special one, sometimes any (surrogates excluded,
    /// as Swift strings cannot hold them).
    static let scalar = zip(Gen.int(in: 0...9), Gen.uint32(in: 0...0x10FFFF)).map { pick, raw -> Unicode.Scalar in
        let value: UInt32 =
            switch pick {
            case 0...1: raw
            case 2...4: specials[Int(raw % UInt32(specials.count))]
            default: 0x20 + raw % 95
            }
        return Unicode.Scalar(value) ?? "\u{FFFD}"
    }

    /// Strings of such scalars.
    static func string(of count: ClosedRange<Int>) -> Generator<String, some Sequence & SendableMetatype> {
        scalar.array(of: count).map { String(String.UnicodeScalarView($0)) }
    }

    /// Arbitrary bytes.
    static func bytes(of count: ClosedRange<Int>) -> Generator<[UInt8], some Sequence & SendableMetatype> {
        Gen<UInt8>.value(in: 0...255).array(of: count)
    }
}

extension ByteBuffer {
    /// The readable bytes as an array.
    var bytes: [UInt8] { Array(readableBytesView) }
}

/// Decodes a line given as text.
func decode(_ text: String) -> Result<PluginMessage, DecodeFailure> {
    PluginMessageDecoder.decode(ByteBuffer(string: text))
}

/// The failure of a line that must not decode.
func failure(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> DecodeFailure? {
    switch decode(text) {
    case .success(let message):
        Issue.record("decoded \(message) from \(text)", sourceLocation: sourceLocation)
        return nil
    case .failure(let failure): return failure
    }
}

/// The publish a line must decode to.
func publish(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> PluginPublish? {
    switch decode(text) {
    case .success(.publish(let publish)): return publish
    case let other:
        Issue.record("expected a publish from \(text), got \(other)", sourceLocation: sourceLocation)
        return nil
    }
}
