import MQTTCodec
import NIOCore
import NIOEmbedded
import Testing

@testable import Broker

/// What an idle connection keeps: no hold on NIO's receive buffer.
@Suite struct ConnectionMemoryTests {
    @Test func aReadThatEndsInsideAPacketLeavesNIOsBufferFree() throws {
        let harness = BrokerHarness()
        let client = try harness.connection()
        _ = try client.connect("partial")
        var whole = ByteBuffer()
        try MQTTPacket.publish(PublishPacket(topic: "a/b", payload: ByteBuffer(string: "0123456789")))
            .encode(into: &whole, version: .v5)
        let read = whole.getSlice(at: 0, length: 7) ?? ByteBuffer()
        let readStart = read.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        try client.channel.writeInbound(read)
        let handler = try client.channel.pipeline.syncOperations.handler(type: MQTTConnectionHandler.self)
        let held = try #require(handler.inbound)
        #expect(held.readableBytes == 7)
        #expect(held.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } != readStart, "a slice of the read")
        try client.channel.writeInbound(whole.getSlice(at: 7, length: whole.readableBytes - 7) ?? ByteBuffer())
        #expect(handler.inbound == nil)
    }
}
