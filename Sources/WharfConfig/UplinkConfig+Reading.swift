import WharfCore

/// Decoding and cross-checks of the `uplink:` section.
extension UplinkConfig {
    init(reading reader: ConfigReader) {
        let defaults = UplinkConfig()
        self.init()
        enabled = reader.bool("enabled", default: defaults.enabled)
        host = reader.string("host", default: defaults.host)
        port = reader.int("port", default: defaults.port, in: 0...65_535)
        endpoints = UplinkEndpointConfig.readList(from: reader, needed: enabled)
        if enabled && host.isEmpty && reader.value("endpoints") == nil {
            reader.reportMissing(
                "host",
                "the cloud broker's host name (or 'endpoints', a list of host:port), needed when the uplink is enabled")
        }
        failback = UplinkConfig.readFailback(from: reader, default: defaults.failback)
        mqttVersion = reader.choice("mqtt_version", default: defaults.mqttVersion)
        clientID = reader.string("client_id", default: defaults.clientID)
        username = reader.value("username").flatMap { reader.string($0) }
        password = reader.value("password").flatMap { reader.string($0) }
        keepAlive = reader.duration("keepalive", default: defaults.keepAlive, in: .seconds(1)...)
        cleanStart = reader.bool("clean_start", default: defaults.cleanStart)
        sessionExpiry = reader.duration("session_expiry", default: defaults.sessionExpiry)
        tls = UplinkTLSConfig(reading: reader.section("tls"))
        backoff = BackoffPolicy(reading: reader.section("backoff"))
        maxInflight = reader.int("max_inflight", default: defaults.maxInflight, in: 1...65_535)
        statusTopic = reader.string("status_topic", default: defaults.statusTopic)
        if let node = reader.value("status_topic"), Topic.validateName(statusTopic) != nil {
            reader.report("expected an MQTT topic name without wildcards, got \(node.quoted)", at: node)
        }
        forward = ForwardRuleConfig.readList(reader.sectionList("forward") ?? [], from: reader)
        subscribe = (reader.sectionList("subscribe") ?? []).compactMap(RemoteSubscriptionConfig.init(reading:))
        refusals = UplinkRefusalsConfig(reading: reader)
        let limitsReader = reader.section("limits")
        limits = UplinkLimitsConfig(readingKeysOf: limitsReader).asSectionDefaults
        limitsReader.finish()
        reader.finish()
    }
}

extension UplinkTLSConfig {
    init(reading reader: ConfigReader) {
        let defaults = UplinkTLSConfig()
        self.init()
        enabled = reader.bool("enabled", default: defaults.enabled)
        caFile = reader.string("ca_file", default: defaults.caFile)
        certFile = reader.string("cert_file", default: defaults.certFile)
        keyFile = reader.string("key_file", default: defaults.keyFile)
        serverName = reader.string("server_name", default: defaults.serverName)
        verify = reader.bool("verify", default: defaults.verify)
        if certFile.isEmpty != keyFile.isEmpty, let node = reader.value(certFile.isEmpty ? "key_file" : "cert_file") {
            reader.report("a client certificate needs both cert_file and key_file", at: node)
        }
        reader.finish()
    }
}

extension BackoffPolicy {
    /// Reads a `backoff:` section (`base`, `cap`, `stable_after`) over `defaults`; problems are
    /// recorded in `reader`. The uplink, the Modbus adapter and plugins share it.
    public init(reading reader: ConfigReader, defaults: BackoffPolicy = BackoffPolicy()) {
        self.init(
            base: reader.duration("base", default: defaults.base, in: .milliseconds(1)...),
            cap: reader.duration("cap", default: defaults.cap, in: .milliseconds(1)...),
            stableAfter: reader.duration("stable_after", default: defaults.stableAfter)
        )
        if cap < base, let node = reader.value("cap") ?? reader.value("base") {
            reader.report("cap must not be smaller than base", at: node)
        }
        reader.finish()
    }
}

extension ForwardRuleConfig {
    /// Reads the rules and reports names used twice.
    static func readList(_ items: [ConfigReader], from section: ConfigReader) -> [ForwardRuleConfig] {
        var rules: [(rule: ForwardRuleConfig, node: ConfigNode)] = []
        for item in items {
            guard let rule = ForwardRuleConfig(reading: item) else { continue }
            if let earlier = rules.first(where: { $0.rule.name == rule.name }) {
                section.report(
                    "forward rule name '\(rule.name)' is already used at \(where: earlier.node); names must be unique",
                    at: item.value("name") ?? item.node
                )
            }
            rules.append((rule, item.node))
        }
        return rules.map(\.rule)
    }

    /// Reads one rule; nil when its filter is missing or invalid (already reported).
    init?(reading reader: ConfigReader) {
        guard let filter = reader.requiredString("filter", "the local topic filter this rule sends upstream")
        else {
            reader.finish()
            return nil
        }
        if let problem = Topic.validateFilter(filter), let node = reader.value("filter") {
            reader.report("expected an MQTT topic filter (\(problem)), got \(node.quoted)", at: node)
            reader.finish()
            return nil
        }
        let defaults = ForwardRuleConfig(filter: filter)
        self.init(
            name: reader.string("name", default: filter),
            filter: filter,
            stripPrefix: reader.string("strip_prefix", default: defaults.stripPrefix),
            remotePrefix: reader.string("remote_prefix", default: defaults.remotePrefix),
            qos: reader.int("qos", default: defaults.qos, in: 0...2),
            policy: reader.choice("policy", default: defaults.policy)
        )
        reader.finish()
    }
}

extension RemoteSubscriptionConfig {
    /// Reads one cloud subscription; nil when its filter is missing or invalid (already reported).
    init?(reading reader: ConfigReader) {
        guard let filter = reader.requiredString("filter", "the cloud topic filter to subscribe to") else {
            reader.finish()
            return nil
        }
        let resolved = filter.replacing("{gateway}", with: "gateway")
        if let problem = Topic.validateFilter(resolved), let node = reader.value("filter") {
            reader.report("expected an MQTT topic filter (\(problem)), got \(node.quoted)", at: node)
            reader.finish()
            return nil
        }
        let defaults = RemoteSubscriptionConfig(filter: filter)
        self.init(
            filter: filter,
            qos: reader.int("qos", default: defaults.qos, in: 0...1),
            stripPrefix: reader.string("strip_prefix", default: defaults.stripPrefix),
            localPrefix: reader.string("local_prefix", default: defaults.localPrefix)
        )
        reader.finish()
    }
}

extension QueueConfig {
    init(reading reader: ConfigReader) {
        let defaults = QueueConfig()
        self.init()
        maxBytes = reader.size("max_bytes", default: defaults.maxBytes, in: 1 << 16...Int.max)
        if let node = reader.value("max_age") {
            if case .string(let text) = node.content, text.lowercased() == "unlimited" {
                maxAge = nil
            } else {
                maxAge = reader.duration(node, in: .seconds(1)...)
            }
        }
        synchronous = reader.choice("synchronous", default: defaults.synchronous)
        reader.finish()
    }
}
