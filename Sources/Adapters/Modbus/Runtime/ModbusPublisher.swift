import WharfCore

/// What one step of a device's poll loop publishes: telemetry, then possibly a status message.
struct ModbusBatch: Sendable {
    /// Index of the device in its line's device list.
    var device: Int
    /// Telemetry messages, one per point at most (their order does not matter).
    var telemetry: [Message]
    /// The retained status message, published after the telemetry.
    var status: Message?
}

/// Publishes the batches a line's thread hands over, one batch after another, so the messages of
/// one point keep their order and a status change follows the readings that caused it.
struct ModbusPublisher: Sendable {
    /// The devices of the line, indexed as in `ModbusBatch.device`.
    let devices: [ModbusDeviceRuntime]

    /// Publishes until the handoff is finished and empty.
    func drain(_ handoff: ModbusHandoff<ModbusBatch>) async {
        while let batches = await handoff.next() {
            for batch in batches { await publish(batch) }
        }
    }

    /// Publishes one batch.
    func publish(_ batch: ModbusBatch) async {
        let device = devices[batch.device]
        let telemetry = batch.telemetry
        if telemetry.count > 1, telemetry[0].qos != .atMostOnce {
            // A QoS 1 publish returns once stored: publishing concurrently lets the messages share
            // the store's group commits instead of waiting for one commit each.
            // The children capture the bus and logger only: copying the whole device per message
            // costs a dozen reference counts.
            let bus = device.bus
            let logger = device.logger
            await withDiscardingTaskGroup { group in
                for message in telemetry {
                    group.addTask { await ModbusDeviceRuntime.deliver(message, bus: bus, logger: logger) }
                }
            }
        } else {
            // A QoS 0 publish never waits, so a plain loop saves a task per message.
            for message in telemetry { await device.deliver(message) }
        }
        if !telemetry.isEmpty { device.metrics.pointsPublished(telemetry.count) }
        if let status = batch.status { await device.deliver(status) }
    }
}
