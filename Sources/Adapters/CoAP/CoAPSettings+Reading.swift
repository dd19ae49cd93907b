import CCoAP
public import WharfConfig
import WharfCore

#if canImport(Glibc)
    import Glibc
#endif

extension CoAPSettings {
    /// Reads and validates an adapter section, reporting every problem at once.
    public init(config: AdapterConfig) throws(ConfigError) {
        let reader = ConfigReader(config.source)
        self.init(reading: reader)
        reader.finish()
        if !reader.issues.isEmpty { throw ConfigError(issues: reader.issues) }
    }

    init(reading reader: ConfigReader) {
        self.init()
        bind = reader.string("bind", default: bind)
        if !isIPAddress(bind), let node = reader.value("bind") {
            reader.report("expected an IP address such as 127.0.0.1 or 0.0.0.0, got \(node.quoted)", at: node)
        }
        port = reader.int("port", default: port, in: 1...65_535)
        allowPlain = reader.bool("allow_plain", default: allowPlain)
        plain = TopicGrant(reading: reader.section("plain"), defaults: plain)
        maxPayload = reader.size("max_payload", default: maxPayload, in: 1...(16 * 1_048_576))
        ingest = Ingest(reading: reader.section("ingest"))
        observe = Observe(reading: reader.section("observe"))
        dtls = DTLS(reading: reader.section("dtls"))
        if dtls.enabled && dtls.port == port, let node = reader.section("dtls").value("port") {
            reader.report("dtls.port \(dtls.port) is the same as port; use two different ports", at: node)
        }
        if !allowPlain && !dtls.enabled, let node = reader.value("allow_plain") {
            reader.report("allow_plain is false but dtls is not enabled: no request could publish or read", at: node)
        }
        var names: Set<String> = []
        for device in reader.sectionList("devices") ?? [] {
            guard let parsed = Device(reading: device) else { continue }
            if !names.insert(parsed.name).inserted, let node = device.value("name") {
                device.report("device name '\(parsed.name)' is used twice; names must be unique", at: node)
            }
            devices.append(parsed)
        }
    }
}

extension CoAPSettings.Ingest {
    init(reading reader: ConfigReader) {
        self.init()
        let prefix = reader.string("path_prefix", default: "t")
        pathPrefix = prefix.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if pathPrefix.isEmpty, let node = reader.value("path_prefix") {
            reader.report("expected a path segment such as 't', got \(node.quoted)", at: node)
            pathPrefix = ["t"]
        }
        if let node = reader.value("topic") {
            topic = checkedTemplate(node, in: reader, allowed: [.path, .identity], what: "{path} and {identity}")
        }
        qos = QoS(rawValue: UInt8(reader.int("qos", default: 1, in: 0...2))) ?? .atLeastOnce
        retain = reader.bool("retain", default: false)
        reader.finish()
    }
}

extension CoAPSettings.Observe {
    init(reading reader: ConfigReader) {
        self.init()
        confirmable = reader.bool("confirmable", default: confirmable)
        maxObservers = reader.int("max_observers", default: maxObservers, in: 0...1_000_000)
        reader.finish()
    }
}

extension CoAPSettings.Device {
    init?(reading reader: ConfigReader) {
        let name = reader.requiredString("name", "a unique device name made of lowercase letters, digits, '_' and '-'")
        if let name, let node = reader.value("name"), !isDeviceName(name) {
            reader.report("expected lowercase letters, digits, '_' and '-', got \(node.quoted)", at: node)
        }
        var uri: DeviceURI?
        if let text = reader.requiredString("uri", "the device resource, such as coap://192.0.2.7:5683/temp"),
            let node = reader.value("uri")
        {
            switch DeviceURI.parse(text) {
            case .success(let parsed): uri = parsed
            case .failure(let error): reader.report(error.message, at: node)
            }
        }
        let mode = reader.choice("mode", default: Mode.poll)
        let interval = reader.duration("interval", default: .seconds(10), in: .milliseconds(100)...)
        let topic = reader.value("topic").map {
            checkedTemplate($0, in: reader, allowed: [.device], what: "{device}")
        }
        let qos = QoS(rawValue: UInt8(reader.int("qos", default: 0, in: 0...2))) ?? .atMostOnce
        let commandTopic = reader.string("command_topic", default: "")
        if !commandTopic.isEmpty, Topic.validateFilter(commandTopic) != nil, let node = reader.value("command_topic") {
            reader.report("expected an MQTT topic filter, got \(node.quoted)", at: node)
        }
        let method = reader.choice("method", default: Method.put)
        let resultTopic = reader.value("result_topic").map {
            checkedTemplate($0, in: reader, allowed: [.device], what: "{device}")
        }
        let psk = reader.section("psk")
        let pskIdentity = psk.string("identity", default: "")
        let pskKey = readKey(psk, required: false) ?? []
        psk.finish()
        if let uri, uri.secure, pskIdentity.isEmpty || pskKey.isEmpty, let node = reader.value("uri") {
            reader.report("a coaps:// device needs psk.identity and psk.key (or psk.key_hex)", at: node)
        }
        reader.finish()
        guard let name, isDeviceName(name), let uri else { return nil }
        self.init(name: name, uri: uri)
        self.mode = mode
        self.interval = interval
        if let topic { self.topic = topic.render(device: name) }
        self.qos = qos
        self.commandTopic = commandTopic
        self.method = method
        if let resultTopic { self.resultTopic = resultTopic.render(device: name) }
        self.pskIdentity = pskIdentity
        self.pskKey = pskKey
    }
}

/// A template at `node` checked for unknown placeholders and wildcards.
private func checkedTemplate(
    _ node: ConfigNode,
    in reader: ConfigReader,
    allowed: [TopicTemplate.Part],
    what: String
) -> TopicTemplate {
    let template = TopicTemplate(parsing: reader.string(node) ?? "")
    if let unknown = template.unknownPlaceholder {
        reader.report("unknown placeholder {\(unknown)} in the topic; known: \(what)", at: node)
    }
    for part in template.parts where !allowed.contains(part) && part != .literal("") {
        if case .literal = part { continue }
        reader.report("this topic may only use \(what)", at: node)
        break
    }
    let sample = template.render(path: "a", identity: "i", device: "d")
    if template.description.isEmpty || Topic.validateName(sample) != nil {
        reader.report("expected a topic without '+' or '#', got \(node.quoted)", at: node)
    }
    return template
}

/// Whether `name` is made of lowercase letters, digits, `_` and `-`.
func isDeviceName(_ name: String) -> Bool {
    !name.isEmpty
        && name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
}

/// Whether `text` is a numeric IPv4 or IPv6 address (the server binds to an address, not a name).
func isIPAddress(_ text: String) -> Bool {
    var buffer = in6_addr()
    return inet_pton(AF_INET, text, &buffer) == 1 || inet_pton(AF_INET6, text, &buffer) == 1
}
