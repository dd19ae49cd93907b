import NIOPosix

/// The worker thread of one connection line: a TCP endpoint, or a serial port shared by its RTU devices.
///
/// libmodbus calls block and its contexts are not thread-safe, so the line's own single thread runs
/// the whole poll loop of its devices (`ModbusLineLoop`): it waits for the next due poll, reads,
/// decodes and hands each poll's messages to the publishing task through a `ModbusHandoff`, and
/// makes the queued writes between requests. A dead device therefore delays only the devices of
/// its line, never the others or the async tasks.
final class ModbusLine: Sendable {
    /// Batches that may wait for the publisher before the thread holds its next poll.
    static let defaultBacklog = 16

    private let pool: NIOThreadPool
    private let control = ModbusLineControl()
    private let backlog: Int

    /// Starts the line's thread.
    init(backlog: Int = ModbusLine.defaultBacklog) {
        self.backlog = backlog
        pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
    }

    /// Polls `devices` on the line's thread and publishes what they produce, until cancelled; then
    /// publishes what is still pending.
    func run(_ devices: [ModbusDeviceRuntime]) async {
        let control = self.control
        let handoff = ModbusHandoff<ModbusBatch>(limit: backlog) { control.wake() }
        let publisher = ModbusPublisher(devices: devices)
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await publisher.drain(handoff) }
                _ = try? await pool.runIfActive {
                    ModbusLineLoop(devices: devices, control: control, handoff: handoff).run()
                }
                handoff.finish()
            }
        } onCancel: {
            control.stop()
        }
        control.finishWrites()
    }

    /// Makes `write` on the line's thread between two requests; nil when the line has stopped.
    func write(_ device: ModbusDeviceConfig, _ write: ModbusWrite) async -> Result<Void, ModbusIOError>? {
        await control.submit(write, to: device)
    }

    /// Stops the thread (the poll loop has closed its connections).
    func shutdown() async {
        control.finishWrites()
        try? await pool.shutdownGracefully()
    }
}

/// The libmodbus contexts of one line.
///
/// Not Sendable: created and used by the poll loop on the line's thread only.
final class ModbusLineState {
    private var connections: [String: ModbusConnection] = [:]

    /// Opens (or reuses) the device's connection.
    func connect(_ device: ModbusDeviceConfig) -> Result<Void, ModbusIOError> {
        do throws(ModbusIOError) {
            let connection = try self.connection(for: device)
            try connection.connect()
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    /// Runs a poll's requests in order; after a timeout or connection error the rest fail with the
    /// same error without being sent, so a dead device costs one timeout per poll, not one per request.
    /// `between` runs before every request but the first (it makes the queued writes).
    func poll(
        _ device: ModbusDeviceConfig,
        _ requests: [ModbusReadRequest],
        between: () -> Void = {}
    ) -> [Result<[UInt16], ModbusIOError>] {
        var results: [Result<[UInt16], ModbusIOError>] = []
        results.reserveCapacity(requests.count)
        var fatal: ModbusIOError?
        for request in requests {
            if !results.isEmpty, fatal == nil { between() }
            if let fatal {
                results.append(.failure(fatal))
                continue
            }
            do throws(ModbusIOError) {
                let connection = try self.connection(for: device)
                guard connection.isConnected else { throw ModbusIOError(.connection, "not connected") }
                results.append(
                    .success(try connection.read(request.table, address: request.address, count: request.count)))
            } catch {
                results.append(.failure(error))
                if error.takesDeviceOffline {
                    fatal = error
                    recover(device, after: error)
                }
            }
        }
        return results
    }

    /// Performs one write.
    func write(_ device: ModbusDeviceConfig, _ write: ModbusWrite) -> Result<Void, ModbusIOError> {
        do throws(ModbusIOError) {
            let connection = try self.connection(for: device)
            guard connection.isConnected else {
                throw ModbusIOError(.connection, "device '\(device.name)' is not connected")
            }
            try connection.write(write)
            return .success(())
        } catch {
            if error.takesDeviceOffline { recover(device, after: error) }
            return .failure(error)
        }
    }

    /// Closes a TCP device's socket (a late answer must not be taken for the next request's);
    /// a serial port stays open for the other devices and only drops stale bytes.
    func recover(_ device: ModbusDeviceConfig, after error: ModbusIOError) {
        guard let connection = connections[Self.key(device)] else { return }
        if connection.isSerial {
            if error.kind == .connection { connection.close() } else { connection.flush() }
        } else {
            connection.close()
        }
    }

    /// Closes every connection.
    func closeAll() {
        for connection in connections.values { connection.close() }
        connections.removeAll()
    }

    private func connection(for device: ModbusDeviceConfig) throws(ModbusIOError) -> ModbusConnection {
        let key = Self.key(device)
        let connection: ModbusConnection
        if let existing = connections[key] {
            connection = existing
        } else {
            connection = try ModbusConnection(transport: device.transport)
            connections[key] = connection
        }
        connection.configure(
            unitID: device.unitID, responseTimeout: device.responseTimeout, byteTimeout: device.byteTimeout)
        return connection
    }

    private static func key(_ device: ModbusDeviceConfig) -> String {
        if case .rtu = device.transport { return "serial" }
        return device.name
    }
}
