import NIOCore
import PluginProtocol
import PropertyBased
import Testing

@Suite struct LineFramerTests {
    /// What the framer reports, in a form tests can compare.
    enum Framed: Equatable {
        case line([UInt8])
        case oversized(Int)
    }

    /// Feeds `input` in chunks of the given sizes (cycled), draining after each; checks the bound
    /// on what the buffer holds after every drain.
    static func frame(_ input: [UInt8], max: Int, chunks: [Int]) -> [Framed] {
        var framer = LineFramer(maxLineBytes: max)
        var buffer = ByteBuffer()
        var output: [Framed] = []
        var offset = 0
        var chunkIndex = 0
        while offset < input.count {
            let size = Swift.max(1, chunks.isEmpty ? 1 : chunks[chunkIndex % chunks.count])
            chunkIndex += 1
            let end = Swift.min(input.count, offset + size)
            buffer.writeBytes(input[offset..<end])
            offset = end
            while let item = framer.next(from: &buffer) {
                switch item {
                case .line(let line): output.append(.line(line.bytes))
                case .oversized(let count): output.append(.oversized(count))
                }
            }
            #expect(buffer.readableBytes <= max + 1, "the framer held \(buffer.readableBytes) bytes")
        }
        return output
    }

    /// What a correct framer must report for `lines`, each followed by a newline.
    static func expected(_ lines: [[UInt8]], max: Int) -> [Framed] {
        lines.map { line in
            var content = line
            if content.last == UInt8(ascii: "\r") { content.removeLast() }
            return content.count <= max ? .line(content) : .oversized(line.count)
        }
    }

    static func join(_ lines: [[UInt8]]) -> [UInt8] {
        lines.flatMap { $0 + [UInt8(ascii: "\n")] }
    }

    @Test func linesByteAtATime() {
        let lines: [[UInt8]] = [Array("{\"type\":\"log\"}".utf8), [], Array("ab\r".utf8), Array("x".utf8)]
        #expect(
            Self.frame(Self.join(lines), max: 64, chunks: [1]) == [
                .line(Array("{\"type\":\"log\"}".utf8)), .line([]), .line(Array("ab".utf8)), .line(Array("x".utf8)),
            ])
    }

    @Test func manyLinesInOneChunk() {
        let lines = (0..<100).map { Array("line \($0)".utf8) }
        #expect(Self.frame(Self.join(lines), max: 64, chunks: [100_000]) == lines.map { .line($0) })
    }

    @Test func carriageReturnsOnlyBeforeTheNewlineAreRemoved() {
        let input = Array("a\r\n\r\nb\r\r\nc\rd\n".utf8)
        #expect(
            Self.frame(input, max: 64, chunks: [3]) == [
                .line(Array("a".utf8)), .line([]), .line(Array("b\r".utf8)), .line(Array("c\rd".utf8)),
            ])
    }

    @Test func anOversizedLineIsDroppedAndReportedOnceThenTheFramerResynchronises() {
        let input = Array("abcdefghij\nok\n".utf8)
        for chunk in [1, 2, 3, 5, 100] {
            #expect(Self.frame(input, max: 4, chunks: [chunk]) == [.oversized(10), .line(Array("ok".utf8))])
        }
    }

    @Test func aLineOfExactlyTheLimitPassesWithOrWithoutCarriageReturn() {
        let input = Array("abcd\nabcd\r\nabcde\n".utf8)
        for chunk in [1, 4, 5, 64] {
            #expect(
                Self.frame(input, max: 4, chunks: [chunk]) == [
                    .line(Array("abcd".utf8)), .line(Array("abcd".utf8)), .oversized(5),
                ])
        }
    }

    @Test func anEndlessLineNeverGrowsTheBuffer() {
        var framer = LineFramer(maxLineBytes: 1024)
        var buffer = ByteBuffer()
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 4096)
        for _ in 0..<1000 {
            buffer.writeBytes(chunk)
            #expect(framer.next(from: &buffer) == nil)
            #expect(buffer.readableBytes <= 1025)
        }
        #expect(framer.isDiscarding)
        buffer.writeBytes(Array("\n{}\n".utf8))
        guard case .oversized(let count) = framer.next(from: &buffer) else {
            Issue.record("expected the oversized report")
            return
        }
        #expect(count == 4096 * 1000)
        guard case .line(let line) = framer.next(from: &buffer) else {
            Issue.record("expected the next line")
            return
        }
        #expect(line.bytes == Array("{}".utf8))
    }

    @Test func invalidUTF8IsFramedAsIsAndRefusedByTheDecoder() {
        let input: [UInt8] = [0xFF, 0xFE, 0x7B, 0x7D, 0x0A]
        let framed = Self.frame(input, max: 64, chunks: [1])
        #expect(framed == [.line([0xFF, 0xFE, 0x7B, 0x7D])])
        guard case .failure(let failure) = PluginMessageDecoder.decode(ByteBuffer(bytes: [0xFF, 0xFE, 0x7B, 0x7D]))
        else {
            Issue.record("invalid UTF-8 decoded")
            return
        }
        #expect(failure.kind == .invalidUTF8)
    }

    @Test func anyChunkingGivesTheSameLines() async {
        // Lines of random bytes (no newline; often '\r' at the end), some longer than the limit.
        let byte = zip(Gen.int(in: 0...9), Gen.uint8(in: 0...255)).map { pick, raw -> UInt8 in
            pick == 0 ? UInt8(ascii: "\r") : (raw == UInt8(ascii: "\n") ? UInt8(ascii: "n") : raw)
        }
        let lines = byte.array(of: 0...40).array(of: 0...20)
        let input = zip(lines, Gen.int(in: 1...24), Gen.int(in: 1...70).array(of: 1...8))
        await propertyCheck(count: 300, input: input) { lines, max, chunks in
            #expect(Self.frame(Self.join(lines), max: max, chunks: chunks) == Self.expected(lines, max: max))
        }
    }
}
