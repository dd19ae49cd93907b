import NIOCore
import PluginProtocol
import PropertyBased
import Testing
import WharfCore

/// Drives a `ConformanceRun` with scripted plugin lines and a clock the test moves.
struct RunHarness {
    var run: ConformanceRun
    var now: Duration = .zero
    var sent: [HostMessage] = []
    var killed = false

    init(credit: Int = 4, timeout: Duration = .seconds(2)) {
        run = ConformanceRun(
            settings: ConformanceSettings(
                name: "t", credit: credit, timeout: timeout, publishWindow: .seconds(3), settle: .seconds(1),
                commandWindow: .seconds(1), shutdownGrace: .seconds(2), wharfVersion: "0.0.0"))
        take(run.start(at: now))
    }

    mutating func take(_ actions: [ConformanceAction]) {
        for action in actions {
            switch action {
            case .send(let message): sent.append(message)
            case .kill: killed = true
            }
        }
    }

    /// The plugin writes a line.
    mutating func plugin(_ line: String) {
        take(run.received(.line(ByteBuffer(string: line)), at: now))
    }

    /// Time passes, in 50 ms ticks.
    mutating func wait(_ duration: Duration) {
        let end = now + duration
        while now < end {
            now += .milliseconds(50)
            take(run.tick(at: now))
        }
    }

    mutating func exit(_ exit: PluginExit) {
        run.exited(exit, at: now)
    }

    /// The lines sent since the last call, encoded.
    mutating func drain() -> [String] {
        defer { sent.removeAll() }
        return sent.map { HostMessageEncoder.line($0).trimmingSuffix() }
    }

    func verdict(_ check: ConformanceCheck) -> ConformanceFinding.Verdict? {
        run.findings.first { $0.check == check }?.verdict
    }

    func detail(_ check: ConformanceCheck) -> String {
        run.findings.first { $0.check == check }?.detail ?? ""
    }

    static let ready =
        #"{"type":"ready","protocol":1,"name":"p","version":"1.0","subscriptions":[{"filter":"cmd/+/set","qos":1}]}"#
    static let readyNoSubs = #"{"type":"ready","protocol":1,"name":"p","version":"1.0"}"#
    static let healthy = #"{"type":"health","status":"healthy"}"#

    static func publish(_ id: Int, qos: Int = 1) -> String {
        #"{"type":"publish","id":\#(id),"topic":"a/b","payload":"\#(id)","qos":\#(qos)}"#
    }
}

extension String {
    func trimmingSuffix() -> String { hasSuffix("\n") ? String(dropLast()) : self }
}

@Suite struct ConformanceRunTests {
    @Test func aWellBehavedPluginPassesEveryCheck() {
        var h = RunHarness()
        #expect(h.drain().first?.hasPrefix(#"{"type":"init","protocol":{"min":1,"max":1}"#) == true)
        h.plugin(#"{"type":"log","level":"info","message":"starting"}"#)
        h.plugin(RunHarness.ready)
        #expect(h.drain() == [#"{"type":"health"}"#])
        h.plugin(RunHarness.healthy)
        for id in 1...4 { h.plugin(RunHarness.publish(id)) }
        h.plugin(RunHarness.publish(99, qos: 0))
        #expect(
            h.drain() == [
                #"{"type":"ack","id":1}"#,
                #"{"type":"nack","id":2,"reason":"quota-exceeded","message":"refused on purpose by the conformance kit"}"#,
                #"{"type":"ack","id":99}"#,
            ])
        // Answers for 3 and 4 are held until the plugin has been quiet for the settle time.
        h.wait(.milliseconds(900))
        #expect(h.drain().isEmpty)
        h.wait(.milliseconds(200))
        #expect(h.drain() == [#"{"type":"ack","id":3}"#, #"{"type":"ack","id":4}"#, #"{"type":"health"}"#])
        h.plugin(RunHarness.healthy)
        let command = h.drain()
        #expect(command.count == 1)
        #expect(command.first?.contains(#""topic":"cmd/conformance/set""#) == true)
        #expect(
            command.first?.contains(#""response_topic":"conformance/t/reply","correlation_data_base64":"wP/u""#) == true
        )
        h.plugin(
            #"{"type":"publish","id":"r","topic":"conformance/t/reply","payload":"ok","qos":1,"properties":{"correlation_data_base64":"wP/u"}}"#
        )
        #expect(h.drain() == [#"{"type":"ack","id":"r"}"#, #"{"type":"health"}"#])
        h.plugin(RunHarness.healthy)
        #expect(h.drain() == [#"{"type":"shutdown","grace_ms":2000}"#])
        h.wait(.milliseconds(300))
        h.exit(.status(0))
        #expect(h.run.isFinished)
        #expect(h.run.passed)
        #expect(h.run.findings.map(\.verdict) == Array(repeating: .pass, count: ConformanceCheck.allCases.count))
        #expect(h.detail(.command).contains("replied on the response topic"))
    }

    @Test func publishingBeyondTheCreditFailsQuotingTheLine() {
        var h = RunHarness(credit: 4)
        h.plugin(RunHarness.readyNoSubs)
        // 1 is acked and 2 nacked at once; 3...6 are held: 4 unanswered. 7 is one too many.
        for id in 1...6 { h.plugin(RunHarness.publish(id)) }
        #expect(h.verdict(.credit) == nil)
        h.plugin(RunHarness.publish(7))
        #expect(h.verdict(.credit) == .fail)
        #expect(h.detail(.credit).contains("5 QoS 1/2 publishes unanswered with a credit of 4"))
        #expect(h.detail(.credit).contains(#""id":7"#))
    }

    @Test func anIDUsedAgainWhileUnansweredFails() {
        var h = RunHarness()
        h.plugin(RunHarness.readyNoSubs)
        for id in [1, 2, 3, 3] { h.plugin(RunHarness.publish(id)) }
        #expect(h.verdict(.credit) == .fail)
        #expect(h.detail(.credit).contains("used again"))
    }

    @Test func noReadyInTimeFailsThenShutdownThenKill() {
        var h = RunHarness(timeout: .seconds(2))
        _ = h.drain()
        h.wait(.milliseconds(1900))
        #expect(h.verdict(.ready) == nil)
        h.wait(.milliseconds(200))
        #expect(h.verdict(.ready) == .fail)
        #expect(h.drain() == [#"{"type":"shutdown","grace_ms":2000}"#])
        h.wait(.seconds(2))
        #expect(h.killed)
        #expect(h.verdict(.shutdown) == .fail)
        h.exit(.signal(9))
        #expect(h.run.isFinished && !h.run.passed)
    }

    @Test func anExitBeforeReadyQuotesStderr() {
        var h = RunHarness()
        h.run.stderrLine("Traceback: ImportError: no module named wharf_plugin")
        h.exit(.status(3))
        #expect(h.run.isFinished)
        #expect(h.verdict(.ready) == .fail)
        #expect(h.detail(.ready).contains("status 3"))
        #expect(h.detail(.ready).contains("no module named wharf_plugin"))
        #expect(h.verdict(.lines) == .skip)
    }

    @Test func aProtocolOutsideTheRangeFailsAndStopsThePlugin() {
        var h = RunHarness()
        _ = h.drain()
        h.plugin(#"{"type":"ready","protocol":2,"name":"p","version":"1"}"#)
        #expect(h.verdict(.protocolVersion) == .fail)
        #expect(h.detail(.protocolVersion) == "ready says protocol 2; the kit offers 1 to 1")
        #expect(h.drain() == [#"{"type":"shutdown","grace_ms":2000}"#])
        h.exit(.status(0))
        #expect(h.verdict(.health) == .skip)
        #expect(!h.run.passed)
    }

    @Test func anInvalidReadyFailsNamingTheMember() {
        var h = RunHarness()
        h.plugin(#"{"type":"ready","protocol":1,"version":"1"}"#)
        #expect(h.verdict(.ready) == .fail)
        #expect(h.detail(.ready).contains("'name'"))
    }

    @Test func onlyLogAndHealthBeforeReady() {
        var h = RunHarness()
        h.plugin(RunHarness.healthy)
        h.plugin(#"{"type":"publish","topic":"early","payload":"x"}"#)
        h.plugin(RunHarness.readyNoSubs)
        #expect(h.verdict(.beforeReady) == .fail)
        #expect(h.detail(.beforeReady).contains(#""topic":"early""#))
        #expect(h.verdict(.ready) == .pass)
    }

    @Test func invalidLinesFailAndAreNackedWhenTheyHaveAnID() {
        var h = RunHarness()
        h.plugin(RunHarness.readyNoSubs)
        _ = h.drain()
        h.plugin("not json")
        h.plugin(#"{"type":"teleport","id":"x"}"#)
        take(&h, .oversized(byteCount: 2_000_000))
        #expect(h.drain() == [#"{"type":"nack","id":"x","reason":"unknown-type","message":"unknown type 'teleport'"}"#])
        #expect(h.verdict(.lines) == .fail)
        #expect(h.detail(.lines).contains("`not json`"))
        h.wait(.seconds(4))
        h.plugin(RunHarness.healthy)
        h.wait(.milliseconds(100))
        h.exit(.status(0))
        #expect(h.detail(.lines).hasSuffix("(and 2 more invalid lines)"))
    }

    func take(_ h: inout RunHarness, _ framed: FramedLine) {
        h.take(h.run.received(framed, at: h.now))
    }

    @Test func aPluginThatDoesNotAnswerPingsFailsHealthAndIsKilledAfterTheGrace() {
        var h = RunHarness(timeout: .seconds(2))
        h.plugin(RunHarness.readyNoSubs)
        h.wait(.seconds(3))
        #expect(h.verdict(.health) == .fail)
        #expect(h.verdict(.credit) == .skip)
        #expect(h.drain().last == #"{"type":"shutdown","grace_ms":2000}"#)
        h.wait(.milliseconds(2100))
        #expect(h.killed)
        h.exit(.signal(9))
        #expect(h.verdict(.shutdown) == .fail)
        #expect(h.run.isFinished)
    }

    @Test func aNonZeroExitAfterShutdownFails() {
        var h = RunHarness()
        h.plugin(RunHarness.readyNoSubs)
        h.plugin(RunHarness.healthy)
        h.wait(.seconds(4))
        #expect(h.drain().last == #"{"type":"shutdown","grace_ms":2000}"#)
        h.exit(.status(1))
        #expect(h.verdict(.shutdown) == .fail)
        #expect(h.detail(.shutdown).contains("status 1"))
    }

    @Test func dyingAfterANackFailsTheNackCheck() {
        var h = RunHarness()
        h.plugin(RunHarness.readyNoSubs)
        h.plugin(RunHarness.healthy)
        h.plugin(RunHarness.publish(1))
        h.plugin(RunHarness.publish(2))
        h.wait(.milliseconds(100))
        h.exit(.status(1))
        #expect(h.verdict(.nack) == .fail)
        #expect(h.verdict(.shutdown) == .fail)
        #expect(h.run.isFinished)
    }

    @Test(arguments: [
        ("a/b", "a/b"), ("a/+/c", "a/conformance/c"), ("#", "conformance"), ("a/#", "a/conformance"),
        ("$share/g/x/+", "x/conformance"),
    ])
    func aTopicMatchingEachFilter(filter: String, topic: String) {
        var h = RunHarness()
        h.plugin(#"{"type":"ready","protocol":1,"name":"p","version":"1","subscriptions":[{"filter":"\#(filter)"}]}"#)
        h.plugin(RunHarness.healthy)
        _ = h.drain()
        h.wait(.seconds(4))
        #expect(h.drain().first?.contains(#""topic":"\#(topic)""#) == true)
    }

    @Test func aPluginThatKeepsToItsCreditAlwaysPasses() async {
        await propertyCheck(count: 100, input: zip(Gen.int(in: 2...8), Gen.int(in: 0...25))) { credit, total in
            var h = RunHarness(credit: credit)
            h.plugin(RunHarness.readyNoSubs)
            h.plugin(RunHarness.healthy)
            // A model plugin: it publishes while it has credit, and reads answers between publishes.
            var available = credit
            var next = 1
            for _ in 0..<200 {
                while !h.sent.isEmpty {
                    let batch = h.sent
                    h.sent.removeAll()
                    for message in batch {
                        switch message {
                        case .ack, .nack: available += 1
                        case .healthPing: h.plugin(RunHarness.healthy)
                        case .shutdown: h.exit(.status(0))
                        default: break
                        }
                    }
                }
                if h.run.isFinished { break }
                if next <= total, available > 0 {
                    available -= 1
                    h.plugin(RunHarness.publish(next))
                    next += 1
                } else {
                    h.wait(.milliseconds(100))
                }
            }
            #expect(h.run.isFinished)
            #expect(h.run.passed, "\(h.run.findings.map(\.report))")
            #expect(h.verdict(.credit) == (total == 0 ? .skip : .pass))
        }
    }
}
