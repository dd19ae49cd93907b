import Logging
import NIOCore
import WharfCore

/// One device's side of its line's poll loop: connection state, schedules, point states and the
/// messages each poll produces. Not Sendable: created and used on the line's thread only.
final class ModbusDevicePoller {
    /// Index of the device in its line's device list (`ModbusBatch.device`).
    let index: Int
    let runtime: ModbusDeviceRuntime
    private let device: ModbusDeviceConfig
    private let groups: [ModbusPollGroup]
    private var states: [ModbusPointState]
    /// The registers (or bits) behind each on_change point's last published good reading: equal
    /// registers decode to the equal value, so an unchanged point is skipped without decoding.
    private var publishedRaw: [[UInt16]?]
    /// Per group and request, the words of its last read if that read published nothing. A point's
    /// state only changes when it publishes, so the same words again publish nothing either: the
    /// request is skipped with one comparison instead of one per point.
    private var quietWords: [[[UInt16]?]]
    /// Per point, prepared once: where its registers start, how many, whether it is on_change
    /// (read on every poll without copying the point's whole configuration), the telemetry topic
    /// and the `,"unit":...` member.
    private let layout: [(address: Int, width: Int, onChange: Bool)]
    private let topics: [String]
    private let unitMembers: [String]
    private var status = StatusTracker()
    private var backoff: Backoff
    private var random: SplitMix64
    private var connected = false
    private var schedules: [ModbusPollSchedule] = []
    /// When the next connection attempt is due (while not connected).
    private var retryAt: UInt64 = 0

    init(index: Int, runtime: ModbusDeviceRuntime) {
        self.index = index
        self.runtime = runtime
        let device = runtime.device
        self.device = device
        groups = ModbusReadPlanner.groups(for: device)
        states = Array(repeating: ModbusPointState(), count: device.points.count)
        publishedRaw = Array(repeating: nil, count: device.points.count)
        quietWords = groups.map { Array(repeating: nil, count: $0.requests.count) }
        layout = device.points.map { ($0.address, $0.table.isBits ? 1 : $0.width, $0.publish == .onChange) }
        topics = device.points.map { runtime.topic(runtime.config.topic, $0) }
        unitMembers = device.points.map { ModbusPayload.unitMember($0.unit) }
        backoff = Backoff(policy: runtime.config.backoff)
        random = SplitMix64(seed: runtime.seed)
        retryAt = runtime.clock.now()
    }

    /// When this device next needs the line: its earliest poll, or its next connection attempt.
    var due: UInt64 {
        guard connected, let first = schedules.first?.deadline else { return retryAt }
        return schedules.dropFirst().reduce(first) { min($0, $1.deadline) }
    }

    /// Does what is due: connects, or runs the earliest due poll group. `between` runs between
    /// requests (it makes the line's queued writes). Returns the batches to publish, in order.
    func step(_ connections: ModbusLineState, between: () -> Void) -> [ModbusBatch] {
        guard connected else { return connect(connections) }
        guard let next = schedules.indices.min(by: { schedules[$0].deadline < schedules[$1].deadline }) else {
            return []
        }
        return poll(next, connections, between: between)
    }

    private func connect(_ connections: ModbusLineState) -> [ModbusBatch] {
        switch connections.connect(device) {
        case .success:
            runtime.logger.debug("connected")
            connected = true
            let start = runtime.clock.now()
            schedules = groups.map { ModbusPollSchedule(interval: $0.interval, start: start) }
            return []
        case .failure(let error):
            runtime.metrics.error(error.kind)
            return wentOffline(error)
        }
    }

    private func poll(_ group: Int, _ connections: ModbusLineState, between: () -> Void) -> [ModbusBatch] {
        let requests = groups[group].requests
        let clock = runtime.clock
        let started = clock.now()
        let results = connections.poll(device, requests, between: between)
        let finished = clock.now()
        // Requests after a timeout or connection error fail without being sent.
        let sent = (results.firstIndex(where: Self.isFatal) ?? results.count - 1) + 1
        runtime.metrics.poll(requests: sent, nanoseconds: finished &- started)
        var fatal: ModbusIOError?
        var stamp = Stamp(wallClock: runtime.wallClock)
        var telemetry: [Message] = []
        for (position, (request, result)) in zip(requests, results).enumerated() {
            switch result {
            case .success(let words):
                if let quiet = quietWords[group][position], quiet == words { continue }
                let before = telemetry.count
                readings(request, words, stamp: &stamp, into: &telemetry)
                quietWords[group][position] = telemetry.count == before ? words : nil
            case .failure(let error):
                if fatal == nil { runtime.metrics.error(error.kind) }
                if error.takesDeviceOffline {
                    fatal = error
                } else {
                    failures(request.points, error, stamp: &stamp, into: &telemetry)
                }
            }
        }
        var batches: [ModbusBatch] = []
        if let fatal {
            if !telemetry.isEmpty { batches.append(ModbusBatch(device: index, telemetry: telemetry)) }
            return batches + wentOffline(fatal)
        }
        var statusMessage: Message?
        if status.online != true {
            status.online = true
            backoff.connected(at: finished)
            runtime.board.set(device.name, .online)
            runtime.logger.info("device online")
            statusMessage = runtime.statusMessage(online: true, reason: nil)
        }
        if !telemetry.isEmpty || statusMessage != nil {
            batches.append(ModbusBatch(device: index, telemetry: telemetry, status: statusMessage))
        }
        // Nothing is published from here, so the end of the reads is the end of the poll.
        schedules[group].advance(now: finished)
        return batches
    }

    /// Appends the messages of a successful read, for the points whose state says to publish.
    private func readings(
        _ request: ModbusReadRequest,
        _ words: [UInt16],
        stamp: inout Stamp,
        into telemetry: inout [Message]
    ) {
        let bits = request.table.isBits
        for index in request.points {
            let (address, width, onChange) = layout[index]
            let offset = address - request.address
            let raw = words[offset..<offset + width]
            if onChange, let published = publishedRaw[index], published.elementsEqual(raw) { continue }
            let point = device.points[index]
            let value: ModbusValue =
                bits
                ? ModbusCodec.decode(bit: UInt8(truncatingIfNeeded: raw[raw.startIndex]))
                : ModbusCodec.decode(registers: raw, for: point)
            guard states[index].reading(value, mode: point.publish, deadband: point.deadband) else { continue }
            if onChange { publishedRaw[index] = Array(raw) }
            let payload = ModbusPayload.reading(value, unitMember: unitMembers[index], timestamp: stamp.text)
            telemetry.append(telemetryMessage(payload, index, stamp: &stamp))
        }
    }

    /// Appends the messages of a failed read: one per point, on the transition only.
    private func failures(
        _ points: some Sequence<Int>,
        _ error: ModbusIOError,
        stamp: inout Stamp,
        into telemetry: inout [Message]
    ) {
        for index in points where states[index].failure() {
            publishedRaw[index] = nil
            forgetQuietWords()
            // Logged on the transition only, like the message, so a lasting fault does not flood the log.
            if !error.takesDeviceOffline {
                runtime.logger.warning(
                    "read failed",
                    metadata: ["modbus.point": "\(device.points[index].name)", "modbus.error": "\(error.reason)"])
            }
            let payload = ModbusPayload.failedReading(error: error.reason, timestamp: stamp.text)
            telemetry.append(telemetryMessage(payload, index, stamp: &stamp))
        }
    }

    private func telemetryMessage(_ payload: String, _ point: Int, stamp: inout Stamp) -> Message {
        runtime.message(
            ByteBuffer(string: payload), to: topics[point], qos: runtime.config.qos, retain: runtime.config.retain,
            receivedAt: stamp.monotonic(runtime.clock))
    }

    /// Marks every point failed (on the transition), the device offline, and schedules the next
    /// connection attempt after the backoff delay.
    private func wentOffline(_ error: ModbusIOError) -> [ModbusBatch] {
        var stamp = Stamp(wallClock: runtime.wallClock)
        var telemetry: [Message] = []
        failures(device.points.indices, error, stamp: &stamp, into: &telemetry)
        runtime.board.set(device.name, .offline(error.reason))
        var statusMessage: Message?
        if status.online != false || status.reason != error.reason {
            runtime.logger.warning("device offline", metadata: ["modbus.error": "\(error.reason)"])
            status.online = false
            status.reason = error.reason
            statusMessage = runtime.statusMessage(online: false, reason: error.reason)
        }
        connected = false
        schedules = []
        let now = runtime.clock.now()
        backoff.connectionLost(at: now)
        retryAt = now &+ Self.nanoseconds(backoff.nextDelay(using: &random))
        guard !telemetry.isEmpty || statusMessage != nil else { return [] }
        return [ModbusBatch(device: index, telemetry: telemetry, status: statusMessage)]
    }

    private func forgetQuietWords() {
        for group in quietWords.indices {
            for request in quietWords[group].indices { quietWords[group][request] = nil }
        }
    }

    private static func isFatal(_ result: Result<[UInt16], ModbusIOError>) -> Bool {
        if case .failure(let error) = result { return error.takesDeviceOffline }
        return false
    }

    private static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(clamping: seconds).multipliedReportingOverflow(by: 1_000_000_000).partialValue
            &+ UInt64(clamping: attoseconds / 1_000_000_000)
    }

    /// A poll's time, read and rendered once, only if the poll publishes anything.
    struct Stamp {
        private let wallClock: any WallClock
        private var rendered: String?
        private var received: UInt64?

        init(wallClock: any WallClock) {
            self.wallClock = wallClock
        }

        /// The RFC 3339 timestamp shared by the poll's payloads.
        var text: String {
            mutating get {
                if let rendered { return rendered }
                let text = ModbusPayload.timestamp(wallClock.millisecondsSinceEpoch())
                rendered = text
                return text
            }
        }

        /// The monotonic receive time shared by the poll's messages.
        mutating func monotonic(_ clock: any WharfClock) -> UInt64 {
            if let received { return received }
            let now = clock.now()
            received = now
            return now
        }
    }
}
