import AdapterKit
import Logging
import MQTTCodec
import NIOCore
import NIOEmbedded
import Testing
import WharfConfig
import WharfCore

@testable import Broker

/// Counts the `read()` requests that pass the MQTT handler on their way to the socket.
final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    var reads = 0

    func read(context: ChannelHandlerContext) {
        reads += 1
        context.read()
    }
}

extension BrokerHarness {
    /// A connection whose pipeline counts the reads the MQTT handler lets through.
    func countedConnection() throws -> (TestConnection, ReadCounter) {
        let channel = EmbeddedChannel(loop: loop)
        let counter = ReadCounter()
        try channel.pipeline.syncOperations.addHandler(counter)
        try channel.pipeline.syncOperations.addHandler(
            MQTTConnectionHandler(broker: broker, listener: "test", logger: Logger(label: "test")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (TestConnection(channel: channel, loop: loop), counter)
    }
}

extension TestConnection {
    /// Makes the embedded channel (not) writable, as a full or drained socket buffer would.
    func setWritable(_ writable: Bool) {
        channel.isWritable = writable
        channel.pipeline.fireChannelWritabilityChanged()
        loop.run()
    }

    var handler: MQTTConnectionHandler {
        get throws { try channel.pipeline.syncOperations.handler(type: MQTTConnectionHandler.self) }
    }

    func publishes() throws -> [PublishPacket] {
        try received().compactMap { if case .publish(let publish) = $0 { publish } else { nil } }
    }
}

private func publish(_ topic: String, size: Int = 8, qos: QoS = .atMostOnce, id: UInt16? = nil) -> MQTTPacket {
    .publish(
        PublishPacket(
            topic: topic, payload: ByteBuffer(repeating: 0x61, count: size), qos: qos,
            packetIdentifier: qos == .atMostOnce ? nil : id))
}

@Suite struct InboundBufferTests {
    /// A stream that never ends on a packet boundary used to grow one buffer by everything the
    /// client ever sent (hundreds of MiB under a flood).
    @Test func onlyTheUnhandledTailIsKept() throws {
        let harness = BrokerHarness()
        let inbox = Inbox()
        _ = try harness.broker.subscribe(filter: "s/#", qos: .atMostOnce, principal: .adapter("test")) {
            inbox.append($0)
        }
        let client = try harness.connection()
        _ = try client.connect("stream")
        var stream = ByteBuffer()
        for index in 0..<2000 {
            try publish("s/\(index % 10)", size: 1000).encode(into: &stream, version: .v5)
        }
        var largest = 0
        while stream.readableBytes > 0 {
            // Fresh buffers, as NIO hands them over, 999 bytes each: nearly all end inside a packet.
            let chunk = stream.readBytes(length: min(999, stream.readableBytes)) ?? []
            try client.channel.writeInbound(client.channel.allocator.buffer(bytes: chunk))
            largest = max(largest, try client.handler.inbound?.capacity ?? 0)
        }
        #expect(inbox.topics.count == 2000)
        #expect(largest < 16 * 1024, "the inbound buffer grew to \(largest) bytes")
    }
}

@Suite struct SlowConsumerTests {
    @Test func nothingIsWrittenToAChannelThatIsNotWritable() throws {
        let harness = BrokerHarness()
        let subscriber = try harness.connection()
        _ = try subscriber.connect("slow")
        try subscriber.subscribe("t/#", qos: .atLeastOnce)
        _ = try subscriber.received()
        subscriber.setWritable(false)
        for index in 0..<5 {
            _ = try harness.broker.publishNow(
                Message(
                    topic: "t/\(index)", payload: ByteBuffer(string: "\(index)"), qos: .atLeastOnce,
                    principal: .adapter("test")))
        }
        #expect(try subscriber.received().isEmpty)
        subscriber.setWritable(true)
        #expect(try subscriber.publishes().map(\.topic) == (0..<5).map { "t/\($0)" })
    }

    @Test func qos0ForAClientThatDoesNotReadIsDroppedAndCounted() throws {
        let harness = BrokerHarness()
        let subscriber = try harness.connection()
        _ = try subscriber.connect("dashboard")
        try subscriber.subscribe("t/#", qos: .atMostOnce)
        _ = try subscriber.received()
        subscriber.setWritable(false)
        for index in 0..<50 {
            _ = try harness.broker.publishNow(
                Message(topic: "t/\(index)", payload: ByteBuffer(string: "x"), principal: .adapter("test")))
        }
        #expect(harness.broker.statistics.dropped(.slowConsumer) == 50)
        subscriber.setWritable(true)
        _ = try harness.broker.publishNow(
            Message(topic: "t/after", payload: ByteBuffer(string: "x"), principal: .adapter("test")))
        #expect(try subscriber.publishes().map(\.topic) == ["t/after"])
    }

    @Test func qos0StagedForOneFlushIsBoundedInBytes() throws {
        let harness = BrokerHarness { $0.flowControl.maxOutboundBytes = 16 * 1024 }
        let subscriber = try harness.connection()
        _ = try subscriber.connect("bursty")
        try subscriber.subscribe("t/#", qos: .atMostOnce)
        _ = try subscriber.received()
        // No flush runs between these deliveries (the embedded loop runs only when asked).
        for index in 0..<100 {
            _ = try harness.broker.publishNow(
                Message(
                    topic: "t/\(index)", payload: ByteBuffer(repeating: 0, count: 1000), principal: .adapter("test")))
        }
        let delivered = try subscriber.publishes().count
        #expect(delivered > 0 && delivered <= 16)
        #expect(harness.broker.statistics.dropped(.slowConsumer) == 100 - delivered)
    }

    @Test func aClientThatDoesNotReadIsNotReadFrom() throws {
        let harness = BrokerHarness()
        let (client, counter) = try harness.countedConnection()
        _ = try client.connect("deaf")
        client.channel.read()
        #expect(counter.reads == 1)
        client.setWritable(false)
        client.channel.read()
        #expect(counter.reads == 1, "a read passed while the client's outbound buffer was full")
        try client.send(.pingReq)
        #expect(try client.received().isEmpty, "a packet was handled while paused")
        client.setWritable(true)
        #expect(counter.reads == 2, "the held read was not issued on resume")
        #expect(try client.received().map { if case .pingResp = $0 { true } else { false } } == [true])
        #expect(harness.broker.flowControl.readPauses[.slowReader] == 1)
    }
}

@Suite struct InboundBackpressureTests {
    @Test func pendingAcknowledgementsStopReading() throws {
        let harness = BrokerHarness { $0.flowControl.maxPendingAcks = 3 }
        let sink = HeldSink()
        harness.broker.addForwardRoute(DurableRoute(name: "up", filter: "up/#", sink: sink))
        let (client, counter) = try harness.countedConnection()
        _ = try client.connect("eager")
        for id in UInt16(1)...4 {
            try client.send(publish("up/\(id)", qos: .atLeastOnce, id: id))
        }
        #expect(sink.topics == ["up/1", "up/2", "up/3"])
        client.channel.read()
        #expect(counter.reads == 0)
        sink.complete("up/1", .stored)
        harness.loop.run()
        #expect(sink.topics == ["up/2", "up/3", "up/4"])
        #expect(counter.reads == 0, "up/4 filled the last slot again")
        sink.complete("up/2", .stored)
        harness.loop.run()
        #expect(counter.reads == 1)
        let acks = try client.received().compactMap {
            if case .pubAck(let ack) = $0 { ack.packetIdentifier } else { nil }
        }
        #expect(acks == [1, 2])
        #expect(harness.broker.flowControl.readPauses[.pendingAcks] == 2)
    }

    @Test func aQoS0FloodOnAForwardRuleIsBoundedByPendingStoreBytes() throws {
        let harness = BrokerHarness { $0.flowControl.maxPendingStoreBytes = 64 * 1024 }
        let sink = HeldSink()
        harness.broker.addForwardRoute(DurableRoute(name: "up", filter: "up/#", sink: sink))
        let client = try harness.connection()
        _ = try client.connect("flood")
        for index in 0..<200 {
            try client.send(publish("up/\(index)", size: 1024))
        }
        let held = sink.topics.count
        #expect(held >= 60 && held <= 64, "\(held) messages of 1 KiB wait for the store")
        for topic in sink.topics { sink.complete(topic, .stored) }
        harness.loop.run()
        #expect(sink.topics.count >= 60 && sink.topics.count <= 64)
        while !sink.topics.isEmpty {
            for topic in sink.topics { sink.complete(topic, .stored) }
            harness.loop.run()
        }
        #expect(try client.handler.inbound == nil, "every publish was handled once the store caught up")
        #expect(try client.handler.pendingStoreBytes == 0)
    }

    @Test func keepAliveDoesNotExpireWhileWharfIsNotReading() throws {
        let harness = BrokerHarness { $0.flowControl.maxPendingAcks = 1 }
        let sink = HeldSink()
        harness.broker.addForwardRoute(DurableRoute(name: "up", filter: "up/#", sink: sink))
        let client = try harness.connection()
        _ = try client.connect("patient", keepAlive: 2)
        try client.send(publish("up/1", qos: .atLeastOnce, id: 1))
        harness.loop.advanceTime(by: .seconds(10))
        #expect(client.isActive)
        sink.complete("up/1", .stored)
        harness.loop.run()
        harness.loop.advanceTime(by: .milliseconds(2900))
        #expect(client.isActive, "the client gets a full keep alive once Wharf reads again")
        harness.loop.advanceTime(by: .milliseconds(200))
        #expect(!client.isActive, "keep alive applies again once Wharf reads")
    }
}

@Suite struct PublishRateLimitTests {
    @Test func aClientOverItsRateIsNotReadUntilTheBucketRefills() throws {
        let harness = BrokerHarness { $0.flowControl.maxPublishRate = 10 }
        let inbox = Inbox()
        _ = try harness.broker.subscribe(filter: "r/#", qos: .atMostOnce, principal: .adapter("test")) {
            inbox.append($0)
        }
        let (client, counter) = try harness.countedConnection()
        _ = try client.connect("chatty")
        var burst = ByteBuffer()
        for index in 0..<15 {
            try publish("r/\(index)").encode(into: &burst, version: .v5)
        }
        try client.channel.writeInbound(burst)
        #expect(inbox.topics.count == 11, "a full bucket takes ten, the eleventh goes into debt")
        client.channel.read()
        #expect(counter.reads == 0)
        harness.loop.advanceTime(by: .milliseconds(99))
        #expect(inbox.topics.count == 11)
        harness.loop.advanceTime(by: .milliseconds(1))
        #expect(inbox.topics.count == 12)
        harness.loop.advanceTime(by: .milliseconds(300))
        #expect(inbox.topics.count == 15)
        #expect(inbox.topics == (0..<15).map { "r/\($0)" })
        harness.loop.advanceTime(by: .milliseconds(100))
        #expect(counter.reads == 1, "reading resumes once the debt is paid")
        #expect(client.isActive, "a client over its rate is slowed down, not disconnected")
        #expect(harness.broker.flowControl.readPauses[.rateLimit] == 5)
    }

    @Test func theByteRateCountsPayloads() throws {
        let harness = BrokerHarness { $0.flowControl.maxPublishBytesRate = 4096 }
        let inbox = Inbox()
        _ = try harness.broker.subscribe(filter: "b/#", qos: .atMostOnce, principal: .adapter("test")) {
            inbox.append($0)
        }
        let client = try harness.connection()
        _ = try client.connect("bulky")
        var burst = ByteBuffer()
        for index in 0..<4 {
            try publish("b/\(index)", size: 2048).encode(into: &burst, version: .v5)
        }
        try client.channel.writeInbound(burst)
        #expect(inbox.topics.count == 3)
        harness.loop.advanceTime(by: .milliseconds(500))
        #expect(inbox.topics.count == 4)
    }
}
