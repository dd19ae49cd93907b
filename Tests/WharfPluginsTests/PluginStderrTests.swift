import NIOCore
import NIOEmbedded
import Testing
import WharfCore

@testable import WharfPlugins

@Suite("Plugin stderr")
struct PluginStderrTests {
    @Test(
        "each line is logged; a long line is cut at 4 KiB and the rest's length said; the last line without a newline at the end"
    )
    func linesAndCuts() throws {
        let (logger, store) = CapturingLogHandler.logger()
        let channel = EmbeddedChannel(
            handler: PluginStderrHandler(logger: logger, clock: SystemClock(), metrics: PluginMetrics(adapter: "e")))
        try channel.writeInbound(ByteBuffer(string: "first\r\nsec"))
        try channel.writeInbound(ByteBuffer(string: "ond\n" + String(repeating: "x", count: 5000)))
        try channel.writeInbound(ByteBuffer(string: String(repeating: "y", count: 100) + "\ntail"))
        _ = try channel.finish()
        let lines = store.all
        #expect(lines.count == 5)
        #expect(lines[0] == "first" && lines[1] == "second")
        #expect(lines[2].hasPrefix(String(repeating: "x", count: 4096)) && lines[2].hasSuffix("[cut at 4096 bytes]"))
        #expect(lines[3] == "(the line above went on for \(5000 - 4096 + 100) more bytes)")
        #expect(lines[4] == "tail")
    }
}
