import WharfConfig
import WharfModbus

/// Reads the first adapter of a YAML document as a Modbus configuration.
func modbusConfig(_ yaml: String) -> Result<ModbusConfig, ConfigError> {
    switch ConfigLoader.load(yaml: yaml, file: "wharf.yaml") {
    case .failure(let error):
        return .failure(error)
    case .success(let configuration):
        guard let adapter = configuration.adapters.first else {
            return .failure(ConfigError(issues: [ConfigIssue(file: "wharf.yaml", path: "", message: "no adapter")]))
        }
        do throws(ConfigError) {
            return .success(try ModbusConfig(adapter: adapter))
        } catch {
            return .failure(error)
        }
    }
}

/// The issue lines (`file:line:column: path: message`) of a document, empty when it is valid.
func modbusIssues(_ yaml: String) -> [String] {
    switch modbusConfig(yaml) {
    case .success: return []
    case .failure(let error): return error.issues.map(\.description)
    }
}

/// An adapter document with one TCP device whose points are the given YAML flow mappings.
func deviceYAML(points: [String], device extra: String = "") -> String {
    var text = """
        adapters:
          - name: plant
            type: modbus
            devices:
              - name: meter-1
                tcp: { host: 127.0.0.1, port: 1502 }

        """
    if !extra.isEmpty { text += "        \(extra)\n" }
    text += "        points:\n"
    for point in points { text += "          - \(point)\n" }
    return text
}

/// A point made in code.
func point(
    _ type: ModbusValueType,
    table: ModbusTable = .holding,
    address: Int = 0,
    order: ModbusWordOrder = .abcd,
    configure: (inout ModbusPointConfig) -> Void = { _ in }
) -> ModbusPointConfig {
    var point = ModbusPointConfig(name: "p", table: table, address: address, type: type)
    point.order = order
    configure(&point)
    return point
}
