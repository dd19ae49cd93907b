import AdapterKit
import Logging
import NIOCore
import WharfCore

/// One device's settings and the services it publishes through; shared by its line's poll loop
/// (`ModbusDevicePoller`), the publisher and the task that performs its writes.
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

    /// The device's retained status message.
    func statusMessage(online: Bool, reason: String?) -> Message {
        let payload = ModbusPayload.status(online: online, reason: reason, at: wallClock.millisecondsSinceEpoch())
        let topic = ModbusTopics.expand(config.statusTopic, adapter: adapter, device: device.name)
        return message(ByteBuffer(string: payload), to: topic, qos: .atLeastOnce, retain: true)
    }

    /// Publishes the device's retained status message.
    func publishStatus(online: Bool, reason: String?) async {
        await deliver(statusMessage(online: online, reason: reason))
    }

    func topic(_ template: String, _ point: ModbusPointConfig) -> String {
        ModbusTopics.expand(template, adapter: adapter, device: device.name, point: point.name)
    }

    /// A JSON message from the adapter (content type `application/json`, UTF-8 payload).
    func message(
        _ payload: ByteBuffer,
        to topic: String,
        qos: QoS,
        retain: Bool,
        properties: MessageProperties = MessageProperties(),
        receivedAt: UInt64? = nil
    ) -> Message {
        var properties = properties
        properties.contentType = "application/json"
        properties.payloadFormatIndicator = 1
        return Message(
            topic: topic,
            payload: payload,
            qos: qos,
            retain: retain,
            properties: properties,
            principal: .adapter(adapter),
            receivedAt: receivedAt ?? clock.now()
        )
    }

    /// Publishes a JSON payload; a refused publish is logged, never fatal.
    func send(
        _ payload: String,
        to topic: String,
        qos: QoS,
        retain: Bool,
        properties: MessageProperties = MessageProperties()
    ) async {
        await deliver(message(ByteBuffer(string: payload), to: topic, qos: qos, retain: retain, properties: properties))
    }

    /// Publishes `message`; a refused publish is logged, never fatal.
    func deliver(_ message: Message) async {
        await Self.deliver(message, bus: bus, logger: logger)
    }

    /// Publishes `message` on `bus`; a refusal is logged on `logger`.
    static func deliver(_ message: Message, bus: any MessageBus, logger: Logger) async {
        do {
            _ = try await bus.publish(message)
        } catch {
            logger.warning("publish refused", metadata: ["mqtt.topic": "\(message.topic)", "error": "\(error)"])
        }
    }
}

/// What was last published on the status topic.
struct StatusTracker {
    var online: Bool?
    var reason: String?
}
