import NIOCore
import WharfCore

extension ConformanceRun {
    /// Lets time pass: timeouts and the credit probe's quiet periods.
    public mutating func tick(at now: Duration) -> [ConformanceAction] {
        switch phase {
        case .notStarted, .finished, .killing:
            return []
        case .awaitingReady(let deadline):
            guard now >= deadline else { return [] }
            fail(.ready, "no ready within \(Self.seconds(settings.timeout))\(stderrSuffix)")
            return beginShutdown(at: now, skipping: "not reached: no ready")
        case .shuttingDown(let deadline):
            guard now >= deadline else { return [] }
            fail(.shutdown, "still running \(Self.seconds(now - shutdownAt)) after shutdown; killed")
            phase = .killing
            return [.kill]
        default:
            return advance(at: now)
        }
    }

    /// Handles the plugin's exit (the driver reports it once the process is reaped).
    public mutating func exited(_ exit: PluginExit, at now: Duration) {
        switch phase {
        case .notStarted, .finished:
            return
        case .awaitingReady:
            fail(.ready, "exited with \(exit) before ready\(stderrSuffix)")
            finish(skipping: "not reached: the plugin exited")
        case .shuttingDown:
            if exit == .status(0) {
                pass(.shutdown, "exited with status 0 \(Self.seconds(now - shutdownAt)) after shutdown")
            } else {
                fail(.shutdown, "exited with \(exit) after shutdown (expected status 0)\(stderrSuffix)")
            }
            finish(skipping: "not reached")
        case .killing:
            finish(skipping: "not reached")
        case .probing, .afterNack, .command:
            let current = currentCheck
            fail(current, "exited with \(exit) while the kit checked \(current.rawValue)\(stderrSuffix)")
            fail(.shutdown, "exited with \(exit) before shutdown")
            finish(skipping: "not reached: the plugin exited")
        }
    }

    /// The check the run is busy with, blamed when the plugin dies.
    private var currentCheck: ConformanceCheck {
        switch phase {
        case .probing: pingDeadline != nil ? .health : (nackSent ? .nack : .credit)
        case .afterNack: .nack
        default: .command
        }
    }

    /// Moves on when the current step is done or out of time.
    mutating func advance(at now: Duration) -> [ConformanceAction] {
        switch phase {
        case .probing:
            if let deadline = pingDeadline, now >= deadline {
                fail(.health, "no answer to a health ping within \(Self.seconds(settings.timeout))")
                pingDeadline = nil
            }
            var actions = concludeProbeIfDone(at: now)
            guard pingDeadline == nil, probeConcluded else { return actions }
            if nackSent {
                guard results[.health]?.verdict == .pass else {
                    skip(.nack, "not checked: the plugin does not answer health pings")
                    return actions + beginCommand(at: now)
                }
                phase = .afterNack(deadline: now + settings.timeout)
                actions.append(.send(.healthPing))
                return actions
            }
            return actions + beginCommand(at: now)
        case .afterNack(let deadline):
            guard now >= deadline else { return [] }
            fail(.nack, "no answer to a health ping after a nack within \(Self.seconds(settings.timeout))")
            return beginCommand(at: now)
        case .command(let replyDeadline, let pingDeadline):
            if let pingDeadline {
                guard now >= pingDeadline else { return [] }
                fail(.command, "no answer to a health ping after a command within \(Self.seconds(settings.timeout))")
                return beginShutdown(at: now, skipping: nil)
            }
            guard replied || now >= replyDeadline else { return [] }
            phase = .command(replyDeadline: replyDeadline, pingDeadline: now + settings.timeout)
            return [.send(.healthPing)]
        default:
            return []
        }
    }

    /// Ends the credit probe when the plugin has shown what it does, and sends the held answers.
    private mutating func concludeProbeIfDone(at now: Duration) -> [ConformanceAction] {
        guard !probeConcluded else { return [] }
        let windowEnd = readyAt + settings.publishWindow
        if let last = lastQoS12At {
            let creditFailed = results[.credit]?.verdict == .fail
            guard creditFailed || now >= last + settings.settle || now >= windowEnd + settings.settle else { return [] }
            pass(
                .credit,
                "at most \(mostUnanswered) QoS 1/2 publishes unanswered with a credit of \(settings.credit) (\(Self.count(held.count, "answer")) held back)"
            )
            if !nackSent { skip(.nack, "the plugin sent only one QoS 1/2 publish") }
        } else {
            guard now >= windowEnd else { return [] }
            let hint = "the plugin sent no QoS 1/2 publish within \(Self.seconds(settings.publishWindow)) of ready"
            skip(.credit, hint + " (give it a --config that makes it publish)")
            skip(.nack, hint)
        }
        probeConcluded = true
        let release = held.map { ConformanceAction.send(.ack($0)) }
        for id in held { unanswered.remove(id) }
        held.removeAll()
        return release
    }

    /// Sends a command on the first subscription, or skips the check when there is none.
    mutating func beginCommand(at now: Duration) -> [ConformanceAction] {
        guard let subscription = ready?.subscriptions.first else {
            skip(.command, "the plugin has no subscriptions")
            return beginShutdown(at: now, skipping: nil)
        }
        let topic = Self.topic(matching: subscription.filter)
        commandTopic = topic
        replyTopic = "conformance/\(settings.name)/reply"
        let command = CommandMessage(
            topic: topic,
            payload: ByteBuffer(string: "{}"),
            qos: subscription.qos,
            retain: false,
            properties: MessageProperties(
                contentType: "application/json",
                responseTopic: replyTopic,
                correlationData: Self.correlation
            )
        )
        phase = .command(replyDeadline: now + settings.commandWindow, pingDeadline: nil)
        return [.send(.command(command))]
    }

    /// Sends `shutdown`; `skipping`, when given, is the reason for the checks left undecided.
    mutating func beginShutdown(at now: Duration, skipping reason: String?) -> [ConformanceAction] {
        if let reason {
            for check in ConformanceCheck.allCases where check != .shutdown && check != .lines {
                skip(check, reason)
            }
        }
        let release = held.map { ConformanceAction.send(.ack($0)) }
        held.removeAll()
        shutdownAt = now
        phase = .shuttingDown(deadline: now + settings.shutdownGrace)
        let grace = Self.milliseconds(settings.shutdownGrace)
        return release + [.send(.shutdown(graceMilliseconds: grace))]
    }

    /// A topic name that `filter` matches: each wildcard level becomes `conformance`.
    static func topic(matching filter: String) -> String {
        var levels = filter.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if levels.first == "$share", levels.count > 2 { levels.removeFirst(2) }
        return levels.map { $0 == "+" || $0 == "#" ? "conformance" : $0 }.joined(separator: "/")
    }
}
