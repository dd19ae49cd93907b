import WharfConfig

extension ModbusDeviceConfig {
    /// Reads one device; `nil` when its name or transport is unusable (already reported).
    init?(reading reader: ConfigReader) {
        let name = reader.requiredString("name", "the device's name, made of lowercase letters, digits, '_' and '-'")
        if let name, let node = reader.value("name"), !Self.isName(name) {
            reader.report(
                "expected a name made of lowercase letters, digits, '_' and '-', got \(node.quoted)", at: node)
        }
        let transport = Self.transport(reader)
        let isTCP = if case .tcp = transport { true } else { false }
        let unitRange = isTCP ? 0...255 : 0...247
        let unitID = reader.value("unit_id").flatMap { node -> Int? in
            switch node.content {
            case .int(let value) where unitRange.contains(value) && (isTCP ? value <= 247 || value == 255 : true):
                return value
            default:
                let allowed = isTCP ? "an integer from 0 to 247, or 255 (TCP)" : "an integer from 0 to 247"
                reader.report("expected a unit id: \(allowed), got \(node.quoted)", at: node)
                return nil
            }
        }
        let responseTimeout = reader.duration("response_timeout", default: .seconds(1), in: .milliseconds(1)...)
        let byteTimeout = reader.duration("byte_timeout", default: .milliseconds(500), in: .milliseconds(1)...)
        let pollInterval = reader.duration("poll_interval", default: .seconds(1))
        let maxGap = reader.int("max_gap", default: 8, in: 0...2000)

        var points: [ModbusPointConfig] = []
        var seen: [String: ConfigNode] = [:]
        let pointReaders = reader.sectionList("points") ?? []
        if pointReaders.isEmpty {
            if let node = reader.value("points") {
                reader.report("expected at least one point", at: node)
            } else {
                reader.reportMissing("points", "the registers and bits to read from this device")
            }
        }
        var sources: [ConfigReader] = []
        for item in pointReaders {
            if let node = item.value("name"), let pointName = node.scalarText {
                if let earlier = seen[pointName] {
                    item.report(
                        "point name '\(pointName)' is already used in this device at \(ModbusConfig.place(earlier)); "
                            + "names must be unique",
                        at: node)
                } else {
                    seen[pointName] = node
                }
            }
            if let point = ModbusPointConfig(reading: item) {
                points.append(point)
                sources.append(item)
            }
        }
        Self.reportOverlaps(points, sources)
        reader.finish()

        guard let name, Self.isName(name), let transport else { return nil }
        self.init(name: name, transport: transport, unitID: unitID ?? 1, points: points)
        self.responseTimeout = responseTimeout
        self.byteTimeout = byteTimeout
        self.pollInterval = pollInterval
        self.maxGap = maxGap
    }

    static func isName(_ name: String) -> Bool {
        !name.isEmpty
            && name.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
            }
    }

    private static func transport(_ reader: ConfigReader) -> ModbusTransport? {
        let tcpNode = reader.value("tcp")
        let rtuNode = reader.value("rtu")
        switch (tcpNode, rtuNode) {
        case (.some, .some(let node)):
            reader.report("a device has either 'tcp' or 'rtu', not both", at: node)
            _ = reader.section("tcp")
            _ = reader.section("rtu")
            return nil
        case (nil, nil):
            reader.reportMissing("tcp", "how the device is reached: 'tcp: { host, port }' or 'rtu: { device, ... }'")
            return nil
        case (.some, nil):
            let tcp = reader.section("tcp")
            let host = tcp.requiredString("host", "the device's IP address or host name")
            let port = tcp.int("port", default: 502, in: 1...65_535)
            tcp.finish()
            return host.map { .tcp(host: $0, port: port) }
        case (nil, .some):
            let rtu = reader.section("rtu")
            let device = rtu.requiredString("device", "the serial port, such as /dev/ttyUSB0")
            var line = ModbusSerialLine(device: device ?? "")
            line.baud = rtu.int("baud", default: line.baud, in: 50...4_000_000)
            line.parity = rtu.choice("parity", default: line.parity)
            line.dataBits = rtu.int("data_bits", default: line.dataBits, in: 5...8)
            line.stopBits = rtu.int("stop_bits", default: line.stopBits, in: 1...2)
            line.rs485 = rtu.bool("rs485", default: line.rs485)
            rtu.finish()
            return device == nil ? nil : .rtu(line)
        }
    }

    /// Reports points whose registers (or bits) overlap in one table; bits of one register may
    /// share it when their `bit`s differ.
    private static func reportOverlaps(_ points: [ModbusPointConfig], _ sources: [ConfigReader]) {
        for (index, point) in points.enumerated() {
            for earlier in points[..<index] where earlier.table == point.table {
                let overlaps =
                    point.address < earlier.address + earlier.width && earlier.address < point.address + point.width
                guard overlaps else { continue }
                if let bit = point.bit, let other = earlier.bit, bit != other { continue }
                let reader = sources[index]
                reader.report(
                    "point '\(point.name)' overlaps point '\(earlier.name)' in the \(point.table.rawValue) table "
                        + "(addresses \(earlier.address)...\(earlier.address + earlier.width - 1))",
                    at: reader.value("address") ?? reader.node)
            }
        }
    }
}
