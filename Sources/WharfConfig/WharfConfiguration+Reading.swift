/// Decoding of the top level and the small sections.
extension WharfConfiguration {
    /// The sections a document may have, in the order the shipped file lists them.
    static let sections = ["gateway", "log", "storage", "broker", "uplink", "adapters", "admin", "remote_config"]

    /// Reads every section, recording issues in `reader` and using defaults where values are wrong.
    init(reading reader: ConfigReader) {
        switch reader.node.content {
        case .null, .object:
            break
        default:
            reader.report(
                "expected a mapping of sections (\(Self.sections.joined(separator: ", "))), got \(reader.node.quoted)",
                at: reader.node
            )
        }
        let gateway = GatewayConfig(reading: reader.section("gateway"))
        let log = LogConfig(reading: reader.section("log"))
        let storage = StorageConfig(reading: reader.section("storage"))
        let broker = BrokerConfig(reading: reader.section("broker"))
        self.init(
            gateway: gateway,
            log: log,
            storage: storage,
            broker: broker,
            uplink: UplinkConfig(reading: reader.section("uplink")),
            adapters: AdapterConfig.readList(from: reader),
            admin: AdminConfig(reading: reader.section("admin"), brokerPasswordFile: broker.passwordFile),
            remoteConfig: RemoteConfigConfig(reading: reader.section("remote_config"))
        )
        // Top-level `x-...` keys are free, as in Compose files: a place for YAML anchors to share.
        reader.finish(ignoring: { $0.hasPrefix("x-") })
    }
}

extension GatewayConfig {
    init(reading reader: ConfigReader) {
        self.init()
        if let node = reader.value("id"), let id = reader.string(node) {
            if id.isEmpty || NameRules.isGatewayID(id) {
                self.id = id
            } else {
                reader.report(
                    "expected up to 64 letters, digits, '.', '_' or '-' (the id is one level of the cloud topics "
                        + "wharf/{gateway}/...), got \(node.quoted)",
                    at: node
                )
            }
        }
        reader.finish()
    }
}

extension LogConfig {
    init(reading reader: ConfigReader) {
        self.init(level: reader.choice("level", default: .info))
        let overrides = reader.section("components")
        for member in overrides.members {
            if let level = overrides.choice(member.value, as: LogLevel.self) {
                components[member.key] = level
            }
        }
        reader.finish()
    }
}

extension StorageConfig {
    init(reading reader: ConfigReader) {
        self.init()
        if let node = reader.value("data_dir"), let path = reader.string(node) {
            if path.hasPrefix("/") && !path.contains("\0") {
                dataDirectory = path
            } else {
                reader.report(
                    "expected an absolute directory path such as /var/lib/wharf, got \(node.quoted)", at: node)
            }
        }
        queue = QueueConfig(reading: reader.section("queue"))
        maxPendingBytes = reader.size("max_pending_bytes", default: maxPendingBytes, in: (1 << 20)...(1 << 40))
        let deadLetterReader = reader.section("dead_letter")
        deadLetter.maxRows = deadLetterReader.int("max_rows", default: deadLetter.maxRows, in: 1...10_000_000)
        deadLetter.maxBytes = deadLetterReader.size(
            "max_bytes", default: deadLetter.maxBytes, in: (1 << 10)...(1 << 40))
        deadLetterReader.finish()
        reader.finish()
    }
}
