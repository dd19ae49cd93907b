import NIOCore
import WharfCore

/// The conformance kit's simulated host: a state machine fed with what the plugin wrote, its
/// exit and the time, that decides what to send next and records a finding per check.
///
/// It has no I/O and no clock of its own: the driver (`wharfctl plugin test`) passes the time
/// elapsed since the start with every event and calls `tick(at:)` regularly. The run goes
/// through the handshake, a health ping, the credit probe (the first QoS 1/2 publish is acked,
/// the second nacked, the rest held back until the plugin has shown that it waits), a ping after
/// the nack, a command on one of the plugin's subscriptions, and `shutdown`.
public struct ConformanceRun: Sendable {
    /// Where the run stands.
    enum Phase: Sendable, Equatable {
        /// `init` not sent yet.
        case notStarted
        /// Waiting for `ready` until the deadline.
        case awaitingReady(deadline: Duration)
        /// Ready: a ping is out and the credit probe runs.
        case probing
        /// A ping after the nack is out.
        case afterNack(deadline: Duration)
        /// The command is out; waiting for a reply until `replyDeadline`, then for a ping's answer.
        case command(replyDeadline: Duration, pingDeadline: Duration?)
        /// `shutdown` is out; waiting for the exit.
        case shuttingDown(deadline: Duration)
        /// Grace is over: the driver kills the plugin; waiting for the exit.
        case killing
        /// The plugin is gone and every check has a finding.
        case finished
    }

    /// The settings of the run.
    public let settings: ConformanceSettings
    var phase = Phase.notStarted
    var results: [ConformanceCheck: ConformanceFinding] = [:]
    var readyAt: Duration = .zero
    var ready: ReadyMessage?
    /// When the first health ping after `ready` went out, until it is answered.
    var pingDeadline: Duration?
    /// The QoS 1/2 publishes not answered yet (by the kit), by id.
    var unanswered: Set<MessageID> = []
    /// The ids whose answers the credit probe holds back.
    var held: [MessageID] = []
    var qos12Seen = 0
    var mostUnanswered = 0
    var lastQoS12At: Duration?
    var probeConcluded = false
    var nackSent = false
    var commandTopic: String?
    var replyTopic = "conformance/reply"
    var replied = false
    var linesSeen = 0
    var invalidLines = 0
    var shutdownAt: Duration = .zero
    /// The last lines the plugin wrote to stderr, quoted when it fails to start.
    var stderrTail: [String] = []

    /// The correlation data of the kit's command.
    static let correlation: [UInt8] = [0xC0, 0xFF, 0xEE]

    /// Creates a run with these settings.
    public init(settings: ConformanceSettings) {
        self.settings = settings
    }

    /// Whether every check has a finding.
    public var isFinished: Bool { phase == .finished }

    /// The findings, one per check in report order (checks not decided yet are left out).
    public var findings: [ConformanceFinding] {
        ConformanceCheck.allCases.compactMap { results[$0] }
    }

    /// Whether no check failed.
    public var passed: Bool { !results.values.contains { $0.verdict == .fail } }

    /// Starts the run: the first line to send is `init`.
    public mutating func start(at now: Duration) -> [ConformanceAction] {
        guard phase == .notStarted else { return [] }
        phase = .awaitingReady(deadline: now + settings.timeout)
        let initMessage = InitMessage(
            name: settings.name,
            config: settings.config,
            credit: settings.credit,
            maxLineBytes: settings.maxLineBytes,
            healthIntervalMilliseconds: settings.healthIntervalMilliseconds,
            wharfVersion: settings.wharfVersion
        )
        return [.send(.initialize(initMessage))]
    }

    /// Keeps the last few stderr lines of the plugin, for the report.
    public mutating func stderrLine(_ text: String) {
        stderrTail.append(String(text.prefix(200)))
        if stderrTail.count > 3 { stderrTail.removeFirst() }
    }

    // MARK: Findings

    mutating func pass(_ check: ConformanceCheck, _ detail: String) {
        guard results[check] == nil else { return }
        results[check] = ConformanceFinding(check: check, verdict: .pass, detail: detail)
    }

    /// Records a failure; the first failure of a check is the one reported.
    mutating func fail(_ check: ConformanceCheck, _ detail: String) {
        guard results[check]?.verdict != .fail else { return }
        results[check] = ConformanceFinding(check: check, verdict: .fail, detail: detail)
    }

    mutating func skip(_ check: ConformanceCheck, _ detail: String) {
        guard results[check] == nil else { return }
        results[check] = ConformanceFinding(check: check, verdict: .skip, detail: detail)
    }

    /// Every check without a finding is skipped with `reason`, and the run is over.
    mutating func finish(skipping reason: String) {
        if invalidLines > 1, var finding = results[.lines] {
            finding.detail += " (and \(invalidLines - 1) more invalid lines)"
            results[.lines] = finding
        }
        if linesSeen > 0 {
            pass(.lines, "every line was a valid message (\(Self.count(linesSeen, "line")))")
        }
        for check in ConformanceCheck.allCases { skip(check, reason) }
        phase = .finished
    }

    /// The stderr tail as a suffix for a report line.
    var stderrSuffix: String {
        stderrTail.isEmpty ? "" : "; stderr: " + stderrTail.joined(separator: " | ")
    }

    /// A line of the plugin, printable and short, for a report.
    static func quote(_ line: ByteBuffer) -> String {
        let text = String(decoding: line.readableBytesView.prefix(160), as: UTF8.self)
        let escaped = text.unicodeScalars.map { $0.value < 0x20 ? "\\u{\(String($0.value, radix: 16))}" : String($0) }
        return "`" + escaped.joined() + (line.readableBytes > 160 ? "...`" : "`")
    }

    /// `1 line`, `2 lines`.
    static func count(_ number: Int, _ noun: String) -> String {
        "\(number) \(noun)\(number == 1 ? "" : "s")"
    }

    /// A duration in whole milliseconds.
    static func milliseconds(_ duration: Duration) -> Int {
        Int(clamping: duration.milliseconds)
    }

    /// A duration for a report: `1.2 s`.
    static func seconds(_ duration: Duration) -> String {
        let milliseconds = max(0, milliseconds(duration))
        return "\(milliseconds / 1000).\(milliseconds % 1000 / 100) s"
    }
}
