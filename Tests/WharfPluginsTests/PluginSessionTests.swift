import AdapterKit
import NIOCore
import NIOEmbedded
import PluginProtocol
import Testing
import WharfCore

@testable import WharfPlugins

@Suite("Plugin session")
struct PluginSessionTests {
    @Test("a ready plugin's publishes are routed as plugin:NAME and answered by id")
    func publishesAreAnswered() throws {
        let harness = try SessionHarness()
        try harness.ready()
        try harness.plugin(
            #"{"type":"publish","id":"a","topic":"t/1","payload":"x","qos":0}"#,
            #"{"type":"publish","topic":"t/2","payload":"y"}"#,
            #"{"type":"publish","id":7,"topic":"t/3","payload":"z","qos":1}"#)
        harness.settle()
        let published = harness.bus.published
        #expect(published.map(\.topic) == ["t/1", "t/2", "t/3"])
        #expect(published.allSatisfy { $0.principal == .plugin("p1") })
        #expect(published[2].qos == .atLeastOnce)
        let answers = try harness.hostLines()
        #expect(answers.count == 2)
        #expect(answers[0].contains(#""type":"ack""#) && answers[0].contains(#""id":"a""#))
        #expect(answers[1].contains(#""type":"ack""#) && answers[1].contains(#""id":7"#))
        #expect(harness.board.read().publishes == 3)
        if case .ready(let ready)? = harness.events.first {
            #expect(ready.name == "t")
        } else {
            Issue.record("no ready event: \(harness.events)")
        }
    }

    @Test("a QoS 1 publish is acknowledged only when the router completes it")
    func ackWaitsForDurability() throws {
        let harness = try SessionHarness()
        try harness.ready()
        harness.bus.setMode(.hold)
        try harness.plugin(#"{"type":"publish","id":"1","topic":"t","payload":"x","qos":1}"#)
        harness.settle()
        #expect(try harness.hostLines().isEmpty)
        harness.bus.completeOldest()
        harness.settle()
        let answers = try harness.hostLines()
        #expect(answers.count == 1 && answers[0].contains(#""type":"ack""#))
    }

    @Test("a publish beyond the credit is held, and nothing after it is read, until an answer frees one")
    func creditThrottles() throws {
        let harness = try SessionHarness(credit: 2)
        try harness.ready()
        harness.bus.setMode(.hold)
        try harness.plugin(
            #"{"type":"publish","id":"1","topic":"t","payload":"1","qos":1}"#,
            #"{"type":"publish","id":"2","topic":"t","payload":"2","qos":1}"#,
            #"{"type":"publish","id":"3","topic":"t","payload":"3","qos":1}"#,
            #"{"type":"publish","id":"4","topic":"t","payload":"4","qos":0}"#)
        harness.settle()
        #expect(harness.bus.published.count == 2)
        #expect(harness.liveness.creditViolations == 1)
        harness.bus.completeOldest()
        harness.settle()
        // The held third is routed (and held by the bus); the QoS 0 after it follows.
        #expect(harness.bus.published.map { String(buffer: $0.payload) } == ["1", "2", "3", "4"])
        #expect(harness.board.read().creditStalls == 1)
        let answers = try harness.hostLines()
        #expect(answers.filter { $0.contains(#""type":"ack""#) }.count == 1)
    }

    @Test("a refused publish is answered nack with the router's reason and counted")
    func refusalIsNacked() throws {
        let harness = try SessionHarness()
        try harness.ready()
        harness.bus.setMode(.refuse(PublishError(reason: "not-authorized", message: "not allowed to publish to 'x'")))
        try harness.plugin(#"{"type":"publish","id":"n","topic":"x","payload":"1","qos":1}"#)
        harness.settle()
        let answers = try harness.hostLines()
        #expect(answers.count == 1)
        #expect(answers[0].contains(#""type":"nack""#) && answers[0].contains(#""reason":"not-authorized""#))
        #expect(harness.board.read().nacks == 1)
    }

    @Test("garbage is counted, answered nack where it had an id, and the session reads on")
    func garbageIsSurvived() throws {
        let harness = try SessionHarness(maxLineBytes: 120)
        try harness.ready()
        try harness.plugin(
            "{not json",
            "[1,2]",
            #"{"type":"teleport","id":"u"}"#,
            String(repeating: "x", count: 200),
            #"{"type":"publish","id":"q","topic":"t","qos":1,"payload":"a","payload_base64":"YQ=="}"#)
        try harness.pluginBytes([0xFF, 0xFE, 0x0A])
        try harness.plugin(#"{"type":"publish","id":"ok","topic":"t","payload":"fine","qos":1}"#)
        harness.settle()
        let answers = try harness.hostLines()
        #expect(answers.contains { $0.contains(#""id":"u""#) && $0.contains(#""reason":"unknown-type""#) })
        #expect(answers.contains { $0.contains(#""id":"q""#) && $0.contains(#""reason":"invalid""#) })
        #expect(answers.contains { $0.contains(#""id":"ok""#) && $0.contains(#""type":"ack""#) })
        #expect(harness.board.read().garbageLines == 6)
        #expect(harness.bus.published.map(\.topic) == ["t"])
    }

    @Test("a publish before ready is refused, not routed")
    func publishBeforeReady() throws {
        let harness = try SessionHarness()
        try harness.plugin(#"{"type":"publish","id":"early","topic":"t","payload":"x"}"#)
        harness.settle()
        #expect(harness.bus.published.isEmpty)
        let answers = try harness.hostLines()
        #expect(answers.count == 1 && answers[0].contains(#""type":"nack""#))
        #expect(harness.board.read().garbageLines == 1)
    }

    @Test("a protocol version outside the supported range is reported, and nothing is routed after it")
    func versionMismatch() throws {
        let harness = try SessionHarness()
        try harness.plugin(
            #"{"type":"ready","protocol":2,"name":"future","version":"9","subscriptions":[{"filter":"c/#","qos":1}]}"#,
            #"{"type":"publish","id":"1","topic":"t","payload":"x"}"#)
        harness.settle()
        guard case .versionMismatch(let sentence)? = harness.events.first else {
            Issue.record("expected a version mismatch, got \(harness.events)")
            return
        }
        #expect(sentence.contains("speaks protocol 2") && sentence.contains("1 to 1"))
        #expect(harness.bus.published.isEmpty)
        #expect(harness.bus.subscribedFilters.isEmpty)
    }

    @Test("messages on the plugin's subscriptions are written to it as commands; refused filters are reported")
    func commandsReachThePlugin() throws {
        let harness = try SessionHarness()
        harness.bus.refuseSubscriptions(to: "secret/#")
        try harness.ready(subscriptions: #"[{"filter":"cmd/#","qos":1},{"filter":"secret/#","qos":0}]"#)
        #expect(harness.bus.subscribedFilters == ["cmd/#"])
        #expect(harness.board.read().refusedSubscriptions.count == 1)
        var properties = MessageProperties()
        properties.responseTopic = "reply/1"
        properties.correlationData = [1, 2]
        harness.bus.deliver(
            Message(
                topic: "cmd/valve", payload: ByteBuffer(string: "open"), qos: .atLeastOnce, properties: properties,
                principal: .client(username: nil, clientIdentifier: "c", listener: "l")))
        harness.settle()
        let lines = try harness.hostLines()
        #expect(lines.count == 1)
        #expect(lines[0].contains(#""type":"command""#) && lines[0].contains(#""topic":"cmd/valve""#))
        #expect(lines[0].contains(#""payload":"open""#) && lines[0].contains("reply/1"))
        #expect(harness.board.read().commands == 1)
    }

    @Test("while the plugin does not read what wharfd writes to it, its output is not read")
    func unreadAnswersPauseReading() throws {
        let harness = try SessionHarness()
        try harness.ready()
        harness.channel.pipeline.read()
        let reads = harness.readRequests
        harness.channel.isWritable = false
        harness.channel.pipeline.read()
        #expect(harness.readRequests == reads)
        harness.channel.isWritable = true
        harness.channel.pipeline.fireChannelWritabilityChanged()
        #expect(harness.readRequests == reads + 1)
    }

    @Test("when the plugin's pipe closes, its subscriptions end and waiting commands are dropped")
    func closeEndsTheSession() throws {
        let harness = try SessionHarness()
        try harness.ready(subscriptions: #"[{"filter":"cmd/#","qos":1}]"#)
        _ = try harness.channel.finish()
        #expect(harness.bus.subscribedFilters.isEmpty)
        #expect(harness.events.contains { if case .closed = $0 { true } else { false } })
        #expect(harness.commands.push(Message(topic: "cmd/x", payload: ByteBuffer(), principal: .broker)) == .dropped)
    }
}
