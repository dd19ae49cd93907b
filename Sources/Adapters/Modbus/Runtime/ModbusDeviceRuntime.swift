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
            for (request, result) in zip(requests, results) {
                switch result {
                case .success(let words):
                    await publish(request, words, states: &states)
                case .failure(let error):
                    if fatal == nil { metrics.error(error.kind) }
                    if error.takesDeviceOffline {
                        fatal = error
                    } else {
                        logger.warning("read failed", metadata: ["modbus.error": "\(error)"])
                        await failed(request.points, error, states: &states)
                    }
                }
            }
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

    private func publish(_ request: ModbusReadRequest, _ words: [UInt16], states: inout [ModbusPointState]) async {
        for index in request.points {
            let point = device.points[index]
            let offset = point.address - request.address
            let value: ModbusValue =
                request.table.isBits
                ? ModbusCodec.decode(bit: UInt8(words[offset]))
                : ModbusCodec.decode(registers: words[offset..<offset + point.width], for: point)
            guard states[index].reading(value, mode: point.publish, deadband: point.deadband) else { continue }
            let payload = ModbusPayload.reading(value, unit: point.unit, at: wallClock.millisecondsSinceEpoch())
            await send(payload, to: topic(config.topic, point), qos: config.qos, retain: config.retain)
            metrics.pointPublished()
        }
    }

    private func failed(_ points: [Int], _ error: ModbusIOError, states: inout [ModbusPointState]) async {
        for index in points where states[index].failure() {
            let payload = ModbusPayload.failedReading(error: error.reason, at: wallClock.millisecondsSinceEpoch())
            await send(payload, to: topic(config.topic, device.points[index]), qos: config.qos, retain: config.retain)
            metrics.pointPublished()
        }
    }

    private func wentOffline(_ error: ModbusIOError, states: inout [ModbusPointState], status: inout StatusTracker)
        async
    {
        await failed(Array(device.points.indices), error, states: &states)
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

/// What was last published on the status topic.
struct StatusTracker {
    var online: Bool?
    var reason: String?
}
