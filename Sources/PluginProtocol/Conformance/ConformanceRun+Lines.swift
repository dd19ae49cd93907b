import NIOCore
import WharfCore

extension ConformanceRun {
    /// Handles what the framer found in the plugin's stdout.
    public mutating func received(_ framed: FramedLine, at now: Duration) -> [ConformanceAction] {
        guard phase != .notStarted, phase != .finished else { return [] }
        linesSeen += 1
        var actions: [ConformanceAction] = []
        switch framed {
        case .oversized(let count):
            invalidLines += 1
            fail(.lines, "a line of \(count) bytes is longer than max_line_bytes (\(settings.maxLineBytes))")
        case .line(let line):
            switch PluginMessageDecoder.decode(line) {
            case .failure(let failure):
                invalidLine(failure, line, at: now, &actions)
            case .success(let message):
                handle(message, line, at: now, &actions)
            }
        }
        actions += advance(at: now)
        return actions
    }

    private mutating func invalidLine(
        _ failure: DecodeFailure, _ line: ByteBuffer, at now: Duration, _ actions: inout [ConformanceAction]
    ) {
        invalidLines += 1
        fail(.lines, "\(failure.kind.rawValue): \(failure.detail): \(Self.quote(line))")
        guard case .awaitingReady = phase else {
            // As the host does: a line with a valid id gets its nack.
            if let id = failure.id {
                unanswered.remove(id)
                actions.append(.send(.nack(id, reason: failure.nackReason, message: failure.detail)))
            }
            return
        }
        if failure.detail.hasPrefix("ready:") {
            fail(.ready, "invalid ready: \(failure.detail): \(Self.quote(line))")
            actions += beginShutdown(at: now, skipping: "not reached: the ready message was invalid")
        }
    }

    private mutating func handle(
        _ message: PluginMessage, _ line: ByteBuffer, at now: Duration, _ actions: inout [ConformanceAction]
    ) {
        if case .awaitingReady = phase {
            switch message {
            case .log, .health:
                return
            case .ready(let ready):
                actions += handleReady(ready, at: now)
            case .publish:
                fail(.beforeReady, "a publish before ready (only log and health are allowed): \(Self.quote(line))")
            }
            return
        }
        switch message {
        case .ready:
            fail(.lines, "a second ready: \(Self.quote(line))")
        case .log:
            break
        case .health:
            healthAnswered(at: now, &actions)
        case .publish(let publish):
            handlePublish(publish, line, at: now, &actions)
        }
    }

    private mutating func handleReady(_ ready: ReadyMessage, at now: Duration) -> [ConformanceAction] {
        self.ready = ready
        readyAt = now
        guard case .awaitingReady(let deadline) = phase else { return [] }
        let waited = now - (deadline - settings.timeout)
        pass(
            .ready,
            "ready after \(Self.seconds(waited)): '\(ready.name)' \(ready.version), \(Self.count(ready.subscriptions.count, "subscription"))"
        )
        pass(.beforeReady, "only log and health before ready")
        let offered = PluginProtocolVersion.supported
        guard offered.contains(ready.protocolVersion) else {
            fail(
                .protocolVersion,
                "ready says protocol \(ready.protocolVersion); the kit offers \(offered.lowerBound) to \(offered.upperBound)"
            )
            return beginShutdown(at: now, skipping: "not reached: the protocol version is not supported")
        }
        pass(.protocolVersion, "protocol \(ready.protocolVersion)")
        phase = .probing
        pingDeadline = now + settings.timeout
        return [.send(.healthPing)]
    }

    private mutating func healthAnswered(at now: Duration, _ actions: inout [ConformanceAction]) {
        switch phase {
        case .probing:
            if let deadline = pingDeadline {
                pass(.health, "answered a ping after \(Self.seconds(now - (deadline - settings.timeout)))")
                pingDeadline = nil
            }
        case .afterNack:
            pass(.nack, "kept running after a nack and answered a ping")
            actions += beginCommand(at: now)
        case .command(_, .some):
            let answer = replied ? "replied on the response topic" : "did not reply (version 1 allows that)"
            pass(.command, "took a command on '\(commandTopic ?? "")', \(answer), and answered a ping")
            actions += beginShutdown(at: now, skipping: nil)
        default:
            break
        }
    }

    private mutating func handlePublish(
        _ publish: PluginPublish, _ line: ByteBuffer, at now: Duration, _ actions: inout [ConformanceAction]
    ) {
        if case .command = phase, publish.topic == replyTopic,
            publish.properties.correlationData == Self.correlation
        {
            replied = true
        }
        guard publish.qos != .atMostOnce, let id = publish.id else {
            if let id = publish.id { actions.append(.send(.ack(id))) }
            return
        }
        guard unanswered.insert(id).inserted else {
            fail(.credit, "id \(id) used again while still unanswered: \(Self.quote(line))")
            return
        }
        qos12Seen += 1
        lastQoS12At = now
        mostUnanswered = max(mostUnanswered, unanswered.count)
        if unanswered.count > settings.credit {
            fail(
                .credit,
                "\(unanswered.count) QoS 1/2 publishes unanswered with a credit of \(settings.credit): \(Self.quote(line))"
            )
        }
        guard case .probing = phase, !probeConcluded else {
            unanswered.remove(id)
            actions.append(.send(.ack(id)))
            return
        }
        switch qos12Seen {
        case 1:
            unanswered.remove(id)
            actions.append(.send(.ack(id)))
        case 2:
            unanswered.remove(id)
            nackSent = true
            actions.append(
                .send(.nack(id, reason: "quota-exceeded", message: "refused on purpose by the conformance kit")))
        default:
            held.append(id)
        }
    }
}
