import FuzzSupport
import NIOCore
import PluginProtocol

/// A plugin's output, cut into lines by the framer in chunks, each line read as a message.
///
/// Steering: byte 0 is the line limit (1 to 256, or 1 MiB when 0); byte 1 says how many chunk-size
/// bytes follow (0 to 7). Invariants: the framer never keeps more than the limit plus one byte of
/// a line; a line is never longer than the limit and holds no newline; an oversized report is over
/// the limit; the same lines come out whatever the chunking.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPluginFramer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let limitByte = input.take()
    let maxLineBytes = limitByte == 0 ? 1 << 20 : Int(limitByte)
    let sizeCount = Int(input.take() & 0x07)
    let sizes = (0..<sizeCount).map { _ in input.take() }
    let stream = input.rest

    let whole = frame(chunks: [stream], maxLineBytes: maxLineBytes)
    let chunked = frame(chunks: FuzzInput.chunks(of: stream, sizes: sizes), maxLineBytes: maxLineBytes)
    if whole != chunked {
        fuzzFailure("chunked framing differs: \(whole) vs \(chunked)")
    }
    for case .line(let line) in whole {
        _ = PluginMessageDecoder.decode(line)
    }
    return 0
}

/// Feeds `chunks` to one framer as a pipe would, checking the framer's bounds after each step.
func frame(chunks: [ArraySlice<UInt8>], maxLineBytes: Int) -> [FramedLine] {
    var framer = LineFramer(maxLineBytes: maxLineBytes)
    var buffer = ByteBuffer()
    var lines: [FramedLine] = []
    for chunk in chunks {
        buffer.writeBytes(chunk)
        while let next = framer.next(from: &buffer) {
            switch next {
            case .line(let line):
                if line.readableBytes > maxLineBytes || line.readableContainsNewline {
                    fuzzFailure("line of \(line.readableBytes) bytes over \(maxLineBytes) or with a newline")
                }
                lines.append(next)
            case .oversized(let byteCount):
                if byteCount <= maxLineBytes {
                    fuzzFailure("oversized report of \(byteCount) bytes within \(maxLineBytes)")
                }
                lines.append(next)
            }
        }
        if buffer.readableBytes > maxLineBytes + 1 {
            fuzzFailure("framer keeps \(buffer.readableBytes) bytes with a limit of \(maxLineBytes)")
        }
        buffer.discardReadBytes()
    }
    return lines
}

extension ByteBuffer {
    /// Whether the readable bytes hold a `\n`.
    fileprivate var readableContainsNewline: Bool {
        readableBytesView.contains(UInt8(ascii: "\n"))
    }
}

/// libFuzzer's driver around `fuzzPluginFramer`.
@main
enum FuzzPluginFramerMain {
    static func main() { runLibFuzzer(fuzzPluginFramer) }
}
