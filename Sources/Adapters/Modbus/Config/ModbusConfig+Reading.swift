public import WharfConfig
import WharfCore

extension ModbusConfig {
    /// Reads and validates an adapter's section, reporting every problem at once.
    public init(adapter: AdapterConfig) throws(ConfigError) {
        let reader = ConfigReader(adapter.source)
        self.init(reading: reader)
        let issues = reader.issues
        if !issues.isEmpty { throw ConfigError(issues: issues) }
    }

    /// Reads the section; problems are recorded in `reader`.
    init(reading reader: ConfigReader) {
        self.init()
        topic = Self.template(reader, "topic", default: topic, placeholders: ["adapter", "device", "point"])
        commandTopic = Self.template(
            reader, "command_topic", default: commandTopic, placeholders: ["adapter", "device", "point"])
        resultTopic = Self.template(
            reader, "result_topic", default: resultTopic, placeholders: ["adapter", "device", "point"])
        statusTopic = Self.template(reader, "status_topic", default: statusTopic, placeholders: ["adapter", "device"])
        qos = reader.int("qos", default: 1, in: 0...1) == 0 ? .atMostOnce : .atLeastOnce
        retain = reader.bool("retain", default: retain)
        backoff = BackoffPolicy(reading: reader.section("backoff"), defaults: backoff)
        let deviceReaders = reader.sectionList("devices") ?? []
        if deviceReaders.isEmpty {
            if let node = reader.value("devices") {
                reader.report("expected at least one device", at: node)
            } else {
                reader.reportMissing("devices", "the Modbus devices this adapter polls")
            }
        }
        var seen: [String: ConfigNode] = [:]
        for item in deviceReaders {
            if let node = item.value("name"), let name = node.scalarText {
                if let earlier = seen[name] {
                    item.report(
                        "device name '\(name)' is already used at \(Self.place(earlier)); names must be unique",
                        at: node)
                } else {
                    seen[name] = node
                }
            }
            if let device = ModbusDeviceConfig(reading: item) { devices.append(device) }
        }
        reader.finish()
    }

    private static func template(_ reader: ConfigReader, _ key: String, default value: String, placeholders: [String])
        -> String
    {
        let text = reader.string(key, default: value)
        guard let node = reader.value(key) else { return text }
        var sample = text
        for name in placeholders { sample = sample.replacing("{\(name)}", with: "x") }
        if sample.contains("{") || sample.contains("}") {
            let allowed = placeholders.map { "{\($0)}" }.joined(separator: ", ")
            reader.report("unknown placeholder in \(node.quoted); the placeholders here are \(allowed)", at: node)
        } else if let problem = Topic.validateName(sample) {
            reader.report("expected an MQTT topic name without wildcards (\(problem)), got \(node.quoted)", at: node)
        }
        return text
    }

    /// "line 12" or the key path, for messages that point at an earlier definition.
    static func place(_ node: ConfigNode) -> String {
        if let line = node.line { return "line \(line)" }
        return node.path.isEmpty ? "an earlier entry" : node.path
    }
}

extension ConfigReader {
    /// A number (whole or not) at `key`, or `nil` when absent or wrong (reported).
    func number(_ key: String) -> Double? {
        guard let node = value(key) else { return nil }
        switch node.content {
        case .int(let number): return Double(number)
        case .double(let number) where number.isFinite: return number
        case .string(let text) where node.isQuoted && Double(text) != nil:
            report("expected a number, got \(node.quoted); remove the quotes to make it a number", at: node)
        default:
            report("expected a number, got \(node.quoted)", at: node)
        }
        return nil
    }
}

extension ConfigNode {
    /// A scalar as text: as written when read from a file, else its value (configs made in code
    /// have no source text).
    var scalarText: String? {
        switch content {
        case .string(let string): return string
        case .int(let number): return text ?? "\(number)"
        case .double(let number): return text ?? "\(number)"
        case .bool(let flag): return text ?? "\(flag)"
        case .null, .array, .object: return nil
        }
    }
}
