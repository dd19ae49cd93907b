import NIOPosix

/// The worker thread of one connection line: a TCP device, or a serial port shared by its RTU devices.
///
/// libmodbus calls block and its contexts are not thread-safe, so every call for a line runs on the
/// line's own single thread, one at a time; a dead device therefore delays only the devices that
/// share its serial port, never the others or the async tasks.
final class ModbusLine: Sendable {
    private let pool: NIOThreadPool
    private let state: ModbusLineState

    /// Starts the line's thread.
    init() {
        pool = NIOThreadPool(numberOfThreads: 1)
        state = ModbusLineState()
        pool.start()
    }

    /// Runs `body` on the line's thread; `nil` when the line has shut down.
    func run<T: Sendable>(_ body: @escaping @Sendable (ModbusLineState) -> T) async -> T? {
        let state = self.state
        return try? await pool.runIfActive { body(state) }
    }

    /// Closes every connection and stops the thread.
    func shutdown() async {
        _ = await run { $0.closeAll() }
        try? await pool.shutdownGracefully()
    }
}

/// The libmodbus contexts of one line.
///
/// `@unchecked Sendable` is safe because instances are only touched from inside
/// `ModbusLine.run`, which executes on the line's single pool thread, one job after another.
final class ModbusLineState: @unchecked Sendable {
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
    func poll(_ device: ModbusDeviceConfig, _ requests: [ModbusReadRequest]) -> [Result<[UInt16], ModbusIOError>] {
        var results: [Result<[UInt16], ModbusIOError>] = []
        var fatal: ModbusIOError?
        for request in requests {
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
