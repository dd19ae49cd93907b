import CModbus

#if canImport(Glibc)
    import Glibc
#endif

/// One libmodbus context. Not Sendable: it lives on its line's worker thread only.
final class ModbusConnection {
    private let context: OpaquePointer
    private(set) var isConnected = false
    let isSerial: Bool

    /// Creates the context for `transport` (no I/O yet).
    init(transport: ModbusTransport) throws(ModbusIOError) {
        let made: OpaquePointer?
        switch transport {
        case .tcp(let host, let port):
            made = modbus_new_tcp_pi(host, String(port))
            isSerial = false
        case .rtu(let line):
            let parity: CChar =
                switch line.parity {
                case .none: CChar(UInt8(ascii: "N"))
                case .even: CChar(UInt8(ascii: "E"))
                case .odd: CChar(UInt8(ascii: "O"))
                }
            made = modbus_new_rtu(line.device, Int32(line.baud), parity, Int32(line.dataBits), Int32(line.stopBits))
            isSerial = true
        }
        guard let made else { throw Self.lastError() }
        context = made
        if case .rtu(let line) = transport, line.rs485 {
            guard modbus_rtu_set_serial_mode(context, MODBUS_RTU_RS485) == 0 else {
                let error = Self.lastError()
                modbus_free(context)
                throw error
            }
        }
    }

    deinit {
        if isConnected { modbus_close(context) }
        modbus_free(context)
    }

    private var configured: (unitID: Int, responseTimeout: Duration, byteTimeout: Duration)?

    /// Sets the unit id and timeouts for the next requests (devices of one serial line differ);
    /// settings already in place are not set again.
    func configure(unitID: Int, responseTimeout: Duration, byteTimeout: Duration) {
        if let configured, configured == (unitID, responseTimeout, byteTimeout) { return }
        configured = (unitID, responseTimeout, byteTimeout)
        modbus_set_slave(context, Int32(unitID))
        let (responseSeconds, responseMicros) = Self.split(responseTimeout)
        modbus_set_response_timeout(context, responseSeconds, responseMicros)
        let (byteSeconds, byteMicros) = Self.split(byteTimeout)
        modbus_set_byte_timeout(context, byteSeconds, byteMicros)
    }

    /// Opens the socket or serial port.
    func connect() throws(ModbusIOError) {
        guard !isConnected else { return }
        guard modbus_connect(context) == 0 else { throw Self.lastError() }
        isConnected = true
    }

    /// Closes the socket or port; the context can connect again.
    func close() {
        guard isConnected else { return }
        modbus_close(context)
        isConnected = false
    }

    /// Drops stale bytes after a timeout on a serial line.
    func flush() {
        if isConnected { _ = modbus_flush(context) }
    }

    /// Reads `count` registers or bits; bits come back as 0 or 1.
    func read(_ table: ModbusTable, address: Int, count: Int) throws(ModbusIOError) -> [UInt16] {
        if table.isBits {
            var bits = [UInt8](repeating: 0, count: count)
            let read = bits.withUnsafeMutableBufferPointer { buffer in
                table == .coil
                    ? modbus_read_bits(context, Int32(address), Int32(count), buffer.baseAddress)
                    : modbus_read_input_bits(context, Int32(address), Int32(count), buffer.baseAddress)
            }
            guard read == count else { throw read < 0 ? Self.lastError() : Self.shortAnswer(read, count) }
            return bits.map { $0 == 0 ? 0 : 1 }
        }
        var registers = [UInt16](repeating: 0, count: count)
        let read = registers.withUnsafeMutableBufferPointer { buffer in
            table == .holding
                ? modbus_read_registers(context, Int32(address), Int32(count), buffer.baseAddress)
                : modbus_read_input_registers(context, Int32(address), Int32(count), buffer.baseAddress)
        }
        guard read == count else { throw read < 0 ? Self.lastError() : Self.shortAnswer(read, count) }
        return registers
    }

    /// Performs a write with function 5, 6 or 16 (a register bit reads the register first).
    func write(_ write: ModbusWrite) throws(ModbusIOError) {
        let status: Int32
        switch write {
        case .coil(let address, let value):
            status = modbus_write_bit(context, Int32(address), value ? 1 : 0)
        case .registers(let address, let values) where values.count == 1:
            status = modbus_write_register(context, Int32(address), values[0])
        case .registers(let address, let values):
            status = values.withUnsafeBufferPointer { buffer in
                modbus_write_registers(context, Int32(address), Int32(buffer.count), buffer.baseAddress)
            }
        case .registerBit(let address, let bit, let value):
            let current = try read(.holding, address: address, count: 1)[0]
            let mask = UInt16(1) << UInt16(bit)
            status = modbus_write_register(context, Int32(address), value ? current | mask : current & ~mask)
        }
        guard status >= 0 else { throw Self.lastError() }
    }

    private static func split(_ duration: Duration) -> (UInt32, UInt32) {
        let micros = max(0, duration.attoseconds / 1_000_000_000_000)
        return (UInt32(clamping: micros / 1_000_000), UInt32(micros % 1_000_000))
    }

    private static func shortAnswer(_ read: Int32, _ count: Int) -> ModbusIOError {
        ModbusIOError(.decode, "short answer: \(read) of \(count) items")
    }

    /// Classifies the current `errno` after a failed libmodbus call.
    static func lastError() -> ModbusIOError {
        classify(wharf_modbus_errno())
    }

    static func classify(_ code: Int32) -> ModbusIOError {
        let reason = Self.reason(code)
        if code == ETIMEDOUT { return ModbusIOError(.timeout, "timeout") }
        if (wharf_modbus_exception_first()...wharf_modbus_exception_last()).contains(code) {
            return ModbusIOError(.exception, reason)
        }
        if (wharf_modbus_bad_crc()...wharf_modbus_bad_slave()).contains(code) {
            return ModbusIOError(.decode, reason)
        }
        return ModbusIOError(.connection, reason)
    }

    /// libmodbus's message with a lowercase first letter: `connection refused`.
    private static func reason(_ code: Int32) -> String {
        guard let text = modbus_strerror(code) else { return "error \(code)" }
        let message = String(cString: text)
        guard let first = message.first else { return "error \(code)" }
        return first.lowercased() + message.dropFirst()
    }
}
