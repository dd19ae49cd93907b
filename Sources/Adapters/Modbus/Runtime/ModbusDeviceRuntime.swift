import AdapterKit
import Logging
import NIOCore
import WharfCore

/// Polls one device, publishes its points and status, and performs the writes sent to it.
struct ModbusDeviceRuntime: Sendable {
    let adapter: String
    let config: ModbusConfig
    let device: ModbusDeviceConfig
    let line: ModbusLine
    let bus: any MessageBus
    let clock: any WharfClock
    let wallClock: any WallClock
    let logger: Logger
    let board: ModbusHealthBoard
    let metrics: ModbusMetrics
    let seed: UInt64

    /// Connects, polls and reconnects until cancelled.
    func run() async {
        let groups = ModbusReadPlanner.groups(for: device)
        var states = [ModbusPointState](repeating: ModbusPointState(), count: device.points.count)
        var status = StatusTracker()
        var backoff = Backoff(policy: config.backoff)
        var random = SplitMix64(seed: seed)
        while !Task.isCancelled {
            let connected = await line.run { [device] in $0.connect(device) }
            guard let connected else { return }
            if case .failure(let error) = connected {
                metrics.error(error.kind)
                await wentOffline(error, states: &states, status: &status)
                backoff.connectionLost(at: clock.now())
                guard await sleep(for: backoff.nextDelay(using: &random)) else { return }
                continue
            }
            logger.debug("connected")
            let error = await poll(groups, states: &states, status: &status, backoff: &backoff)
            guard let error else { return }
            await wentOffline(error, states: &states, status: &status)
            backoff.connectionLost(at: clock.now())
            guard await sleep(for: backoff.nextDelay(using: &random)) else { return }
        }
    }

    /// Polls the groups on schedule until a timeout or connection error (returned) or cancellation (nil).
    private func poll(
        _ groups: [ModbusPollGroup],
        states: inout [ModbusPointState],
        status: inout StatusTracker,
        backoff: inout Backoff
    ) async -> ModbusIOError? {
        let start = clock.now()
        var schedules = groups.map { ModbusPollSchedule(interval: $0.interval, start: start) }
        while !Task.isCancelled {
            let now = clock.now()
            guard let next = schedules.indices.min(by: { schedules[$0].deadline < schedules[$1].deadline }) else {
                return nil
            }
            if !schedules[next].isDue(at: now) {
                guard await sleep(for: .nanoseconds(Int64(clamping: schedules[next].deadline - now))) else {
                    return nil
                }
                continue
            }
            let requests = groups[next].requests
            let started = clock.now()
            guard let results = await line.run({ [device] in $0.poll(device, requests) }) else { return nil }
            let finished = clock.now()
            // Requests after a timeout or connection error fail without being sent.
            let sent = (results.firstIndex(where: Self.isFatal) ?? results.count - 1) + 1
            metrics.poll(requests: sent, nanoseconds: finished &- started)
            var fatal: ModbusIOError?
            var outgoing: [Outgoing] = []
            let stamp = wallClock.millisecondsSinceEpoch()
            for (request, result) in zip(requests, results) {
                switch result {
                case .success(let words):
                    outgoing += readings(request, words, at: stamp, states: &states)
                case .failure(let error):
                    if fatal == nil { metrics.error(error.kind) }
                    if error.takesDeviceOffline {
                        fatal = error
                    } else {
                        outgoing += failures(request.points, error, at: stamp, states: &states)
                    }
                }
            }
            await sendAll(outgoing)
            if let fatal { return fatal }
            if status.online != true {
                status.online = true
                backoff.connected(at: finished)
                board.set(device.name, .online)
                logger.info("device online")
                await publishStatus(online: true, reason: nil)
            }
            schedules[next].advance(now: clock.now())
        }
        return nil
    }

    /// The messages of a successful read, for the points whose state says to publish.
    private func readings(
        _ request: ModbusReadRequest,
        _ words: [UInt16],
        at stamp: Int64,
        states: inout [ModbusPointState]
    ) -> [Outgoing] {
        var outgoing: [Outgoing] = []
        for index in request.points {
            let point = device.points[index]
            let offset = point.address - request.address
            let value: ModbusValue =
                request.table.isBits
                ? ModbusCodec.decode(bit: UInt8(words[offset]))
                : ModbusCodec.decode(registers: words[offset..<offset + point.width], for: point)
            guard states[index].reading(value, mode: point.publish, deadband: point.deadband) else { continue }
            outgoing.append(
                Outgoing(
                    topic: topic(config.topic, point),
                    payload: ModbusPayload.reading(value, unit: point.unit, at: stamp)))
        }
        return outgoing
    }

    /// The messages of a failed read: one per point, on the transition only.
    private func failures(_ points: [Int], _ error: ModbusIOError, at stamp: Int64, states: inout [ModbusPointState])
        -> [Outgoing]
    {
        var outgoing: [Outgoing] = []
        for index in points where states[index].failure() {
            // Logged on the transition only, like the message, so a lasting fault does not flood the log.
            if !error.takesDeviceOffline {
                logger.warning(
                    "read failed",
                    metadata: ["modbus.point": "\(device.points[index].name)", "modbus.error": "\(error.reason)"])
            }
            outgoing.append(
                Outgoing(
                    topic: topic(config.topic, device.points[index]),
                    payload: ModbusPayload.failedReading(error: error.reason, at: stamp)))
        }
        return outgoing
    }

    /// Publishes a poll's telemetry concurrently, so QoS 1 messages share the store's group commits
    /// instead of waiting for one commit each.
    private func sendAll(_ outgoing: [Outgoing]) async {
        guard outgoing.count > 1 else {
            for message in outgoing { await sendTelemetry(message) }
            return
        }
        await withDiscardingTaskGroup { group in
            for message in outgoing {
                group.addTask { await sendTelemetry(message) }
            }
        }
    }

    private func sendTelemetry(_ message: Outgoing) async {
        await send(message.payload, to: message.topic, qos: config.qos, retain: config.retain)
        metrics.pointPublished()
    }

    private func wentOffline(_ error: ModbusIOError, states: inout [ModbusPointState], status: inout StatusTracker)
        async
    {
        await sendAll(
            failures(Array(device.points.indices), error, at: wallClock.millisecondsSinceEpoch(), states: &states))
        board.set(device.name, .offline(error.reason))
        guard status.online != false || status.reason != error.reason else { return }
        logger.warning("device offline", metadata: ["modbus.error": "\(error.reason)"])
        status.online = false
        status.reason = error.reason
        await publishStatus(online: false, reason: error.reason)
    }

    /// Publishes the device's retained status message.
    func publishStatus(online: Bool, reason: String?) async {
        let payload = ModbusPayload.status(online: online, reason: reason, at: wallClock.millisecondsSinceEpoch())
        let topic = ModbusTopics.expand(config.statusTopic, adapter: adapter, device: device.name)
        await send(payload, to: topic, qos: .atLeastOnce, retain: true)
    }

    func topic(_ template: String, _ point: ModbusPointConfig) -> String {
        ModbusTopics.expand(template, adapter: adapter, device: device.name, point: point.name)
    }

    /// Publishes a JSON payload; a refused publish is logged, never fatal.
    func send(
        _ payload: String,
        to topic: String,
        qos: QoS,
        retain: Bool,
        properties: MessageProperties = MessageProperties()
    ) async {
        var properties = properties
        properties.contentType = "application/json"
        properties.payloadFormatIndicator = 1
        let message = Message(
            topic: topic,
            payload: ByteBuffer(string: payload),
            qos: qos,
            retain: retain,
            properties: properties,
            origin: .adapter(name: adapter),
            receivedAt: clock.now()
        )
        do {
            _ = try await bus.publish(message)
        } catch {
            logger.warning("publish refused", metadata: ["mqtt.topic": "\(topic)", "error": "\(error)"])
        }
    }

    private static func isFatal(_ result: Result<[UInt16], ModbusIOError>) -> Bool {
        if case .failure(let error) = result { return error.takesDeviceOffline }
        return false
    }

    /// Sleeps for `duration`; false when cancelled.
    private func sleep(for duration: Duration) async -> Bool {
        do {
            try await Task.sleep(for: duration)
            return true
        } catch {
            return false
        }
    }
}

/// A telemetry message to publish.
struct Outgoing: Sendable {
    var topic: String
    var payload: String
}

/// What was last published on the status topic.
struct StatusTracker {
    var online: Bool?
    var reason: String?
}
