public import AdapterKit
import Logging
import ServiceLifecycle
public import WharfConfig
import WharfCore

/// The Modbus adapter (`type: modbus`): polls Modbus TCP and RTU devices through libmodbus, publishes
/// their points as JSON telemetry, reports each device's health and writes commanded values back.
public struct ModbusAdapter: Adapter {
    /// The config's `type:` value.
    public static let typeName = "modbus"

    /// The validated configuration.
    public let configuration: ModbusConfig
    private let context: AdapterContext
    private let board: ModbusHealthBoard

    /// Reads and validates the adapter's section; every problem is reported at once.
    public init(config: AdapterConfig, context: AdapterContext) throws(ConfigError) {
        configuration = try ModbusConfig(adapter: config)
        self.context = context
        board = ModbusHealthBoard(devices: configuration.devices.map(\.name))
    }

    /// Healthy when every device is online, degraded when some are offline, failed when all are.
    public var health: AdapterHealth { board.health }

    /// Polls every device until graceful shutdown or cancellation.
    public func run() async throws {
        board.setRunning(true)
        defer { board.setRunning(false) }
        var lines: [(line: ModbusLine, devices: [ModbusDeviceRuntime])] = []
        var lineIndex: [String: Int] = [:]
        var runtimes: [ModbusDeviceRuntime] = []
        var generator = SystemRandomNumberGenerator()
        for device in configuration.devices {
            let key = device.transport.lineKey
            let index = lineIndex[key] ?? lines.count
            if index == lines.count { lines.append((ModbusLine(), [])) }
            lineIndex[key] = index
            let line = lines[index].line
            var logger = context.logger
            logger[metadataKey: "modbus.device"] = "\(device.name)"
            runtimes.append(
                ModbusDeviceRuntime(
                    adapter: context.name,
                    config: configuration,
                    device: device,
                    line: line,
                    bus: context.bus,
                    clock: context.clock,
                    wallClock: SystemWallClock(),
                    logger: logger,
                    board: board,
                    metrics: ModbusMetrics(adapter: context.name, device: device.name),
                    seed: generator.next()
                ))
            lines[index].devices.append(runtimes[runtimes.count - 1])
        }
        var subscriptions: [BusSubscription] = []
        var streams: [AsyncStream<ModbusCommandRequest>] = []
        var continuations: [AsyncStream<ModbusCommandRequest>.Continuation] = []
        for runtime in runtimes {
            let (stream, continuation) = AsyncStream.makeStream(
                of: ModbusCommandRequest.self, bufferingPolicy: .bufferingNewest(256))
            streams.append(stream)
            continuations.append(continuation)
            subscriptions += subscribe(runtime, continuation)
        }
        context.logger.info(
            "modbus adapter started",
            metadata: ["modbus.devices": "\(runtimes.count)", "modbus.lines": "\(lines.count)"])

        let workers = Array(zip(runtimes, streams))
        let polled = lines
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for (line, devices) in polled {
                    group.addTask { await line.run(devices) }
                }
                for (runtime, stream) in workers {
                    group.addTask { await runtime.serveWrites(stream) }
                }
            }
        }

        for subscription in subscriptions { subscription.cancel() }
        for continuation in continuations { continuation.finish() }
        for runtime in runtimes { await runtime.publishStatus(online: false, reason: "adapter stopped") }
        for (line, _) in lines { await line.shutdown() }
        context.logger.info("modbus adapter stopped")
    }

    /// Subscribes to the command topic of every point of the device; writes to a read-only point are
    /// answered with an error result.
    private func subscribe(
        _ runtime: ModbusDeviceRuntime,
        _ continuation: AsyncStream<ModbusCommandRequest>.Continuation
    ) -> [BusSubscription] {
        var subscriptions: [BusSubscription] = []
        for (index, point) in runtime.device.points.enumerated() {
            let topic = runtime.topic(configuration.commandTopic, point)
            do {
                // The handler runs on the publisher's thread: it only queues the command.
                subscriptions.append(
                    try context.bus.subscribe(filter: topic, qos: .atLeastOnce, principal: context.principal) {
                        message in
                        continuation.yield(ModbusCommandRequest(point: index, message: message))
                    })
            } catch {
                runtime.logger.error(
                    "cannot subscribe to the command topic",
                    metadata: ["modbus.point": "\(point.name)", "mqtt.topic": "\(topic)", "error": "\(error)"])
            }
        }
        return subscriptions
    }
}
