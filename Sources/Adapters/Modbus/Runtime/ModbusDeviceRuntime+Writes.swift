import Logging
import NIOCore
import WharfCore

/// A command received for one writable point.
struct ModbusCommandRequest: Sendable {
    /// Index of the point in the device's `points`.
    var point: Int
    /// The command message (payload, MQTT 5 response topic and correlation data).
    var message: Message
}

extension ModbusDeviceRuntime {
    /// Performs the commands of `stream` one after another until it ends.
    func serveWrites(_ stream: AsyncStream<ModbusCommandRequest>) async {
        for await request in stream {
            await perform(request)
        }
    }

    private func perform(_ request: ModbusCommandRequest) async {
        let point = device.points[request.point]
        var logger = self.logger
        logger[metadataKey: "modbus.point"] = "\(point.name)"
        let checked = ModbusCommandValue.parse(Array(request.message.payload.readableBytesView))
            .flatMap { ModbusWrite.make($0, for: point) }
        let outcome: Result<ModbusValue, ModbusWriteError>
        switch checked {
        case .failure(let error):
            outcome = .failure(error)
        case .success(let (write, echo)):
            let written = await line.write(device, write)
            switch written {
            case .success: outcome = .success(echo)
            case .failure(let error):
                metrics.error(error.kind)
                outcome = .failure(ModbusWriteError("write failed: \(error.reason)"))
            case nil: outcome = .failure(ModbusWriteError("the adapter is stopping"))
            }
        }
        metrics.write(ok: (try? outcome.get()) != nil)
        switch outcome {
        case .success: logger.info("write done")
        case .failure(let error): logger.warning("write refused or failed", metadata: ["modbus.error": "\(error)"])
        }
        let payload = ModbusPayload.writeResult(outcome, at: wallClock.millisecondsSinceEpoch())
        await send(payload, to: topic(config.resultTopic, point), qos: .atLeastOnce, retain: false)
        if let responseTopic = request.message.properties.responseTopic {
            var properties = MessageProperties()
            properties.correlationData = request.message.properties.correlationData
            await send(payload, to: responseTopic, qos: .atLeastOnce, retain: false, properties: properties)
        }
    }
}
