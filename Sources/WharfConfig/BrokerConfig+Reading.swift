/// Decoding and cross-checks of the `broker:` section.
extension BrokerConfig {
    init(reading reader: ConfigReader) {
        let defaults = BrokerConfig()
        self.init()
        if let items = reader.sectionList("listeners") {
            listeners = ListenerConfig.readList(items, from: reader)
        }
        allowAnonymous = reader.bool("allow_anonymous", default: defaults.allowAnonymous)
        passwordFile = Self.readPath(reader, "password_file")
        allowEmptyPasswords = reader.bool("allow_empty_passwords", default: defaults.allowEmptyPasswords)
        aclFile = Self.readPath(reader, "acl_file")
        maxConnections = reader.int("max_connections", default: defaults.maxConnections, in: 0...Int.max)
        maxPacketSize = reader.size(
            "max_packet_size",
            default: defaults.maxPacketSize,
            in: Self.minimumPacketSize...Self.protocolMaximumPacketSize,
            zeroMeans: "the protocol maximum"
        )
        maxInflightMessages = reader.int("max_inflight_messages", default: defaults.maxInflightMessages, in: 1...65535)
        maxQueuedMessages = reader.int("max_queued_messages", default: defaults.maxQueuedMessages, in: 0...Int.max)
        maxKeepAlive = reader.int("max_keepalive", default: defaults.maxKeepAlive, in: 0...65535)
        retainAvailable = reader.bool("retain_available", default: defaults.retainAvailable)
        maxTopicAlias = reader.int("max_topic_alias", default: defaults.maxTopicAlias, in: 0...65535)
        maxSessionExpiry = Self.readSessionExpiry(reader)
        sysInterval = reader.duration(
            "sys_interval",
            default: defaults.sysInterval,
            in: .seconds(1)...,
            zeroMeans: "no $SYS statistics"
        )
        sharedSubscriptions = reader.bool("shared_subscriptions", default: defaults.sharedSubscriptions)
        maxTopicLevels = reader.int("max_topic_levels", default: defaults.maxTopicLevels, in: 1...65535)
        maxClientIDLength = reader.int(
            "max_client_id_length", default: defaults.maxClientIDLength, in: Self.minimumClientIDLength...65535)
        maxConnectUserProperties = reader.int(
            "max_connect_user_properties", default: defaults.maxConnectUserProperties, in: 0...65535)
        readSessionLimits(reader, defaults: defaults)
        flowControl = FlowControlConfig(reading: reader)
        reader.finish()
    }

    /// A file path, or empty for none. The file itself is read when wharfd starts or reloads.
    private static func readPath(_ reader: ConfigReader, _ key: String) -> String {
        guard let node = reader.value(key) else { return "" }
        if case .null = node.content { return "" }
        guard let path = reader.string(node) else { return "" }
        if path.contains(where: { $0 == "\0" || $0.isNewline }) {
            reader.report("expected a file path, got \(node.quoted)", at: node)
            return ""
        }
        return path
    }

    /// `max_session_expiry`: a duration, or empty / `unlimited` for no clamp.
    private static func readSessionExpiry(_ reader: ConfigReader) -> Duration? {
        guard let node = reader.value("max_session_expiry") else { return nil }
        if case .string(let text) = node.content, text.lowercased() == "unlimited" { return nil }
        return reader.duration(node)
    }
}

extension ListenerConfig {
    /// Reads the listeners and reports names and addresses used twice.
    static func readList(_ items: [ConfigReader], from section: ConfigReader) -> [ListenerConfig] {
        var listeners: [(config: ListenerConfig, node: ConfigNode)] = []
        for item in items {
            guard let listener = ListenerConfig(reading: item) else { continue }
            let portNode = item.value("port") ?? item.node
            if let nameNode = item.value("name"),
                let earlier = listeners.first(where: { $0.config.name == listener.name })
            {
                section.report(
                    "listener name '\(listener.name)' is already used by \(where: earlier.node); names must be unique",
                    at: nameNode
                )
            }
            if let earlier = listeners.first(where: {
                $0.config.port == listener.port && NameRules.bindsOverlap($0.config.bind, listener.bind)
            }) {
                let other = earlier.config
                let clash = other.bind == listener.bind ? "" : " (\(other.bind) includes \(listener.bind))"
                section.report(
                    "port \(listener.port) on \(listener.bind) is already used by listener '\(other.name)' "
                        + "on \(other.bind)\(clash) at \(where: earlier.node)",
                    at: portNode
                )
            }
            listeners.append((listener, item.node))
        }
        return listeners.map(\.config)
    }

    /// Reads one listener; `nil` when its address or port is unusable (already reported).
    init?(reading reader: ConfigReader) {
        let nameNode = reader.value("name")
        let bindNode = reader.value("bind")
        var bind: String? = "127.0.0.1"
        if let bindNode, let text = reader.string(bindNode) {
            bind = text
            if !NameRules.isBindAddress(text) {
                reader.report(
                    "expected an IP address (127.0.0.1 for this machine only, 0.0.0.0 for all IPv4 interfaces, "
                        + ":: for all interfaces) or a host name, got \(bindNode.quoted)",
                    at: bindNode
                )
                bind = nil
            }
        } else if bindNode != nil {
            bind = nil
        }
        let portNode = reader.value("port")
        let transport = Self.readTransport(reader)
        var tls: ListenerTLSConfig?
        var tlsWellFormed = true
        if reader.value("tls") != nil {
            tls = ListenerTLSConfig(reading: reader.section("tls"))
            tlsWellFormed = tls != nil
        }
        let useIdentity = reader.bool("use_identity_as_username", default: false)
        if useIdentity, tls?.requireCertificate != true, tlsWellFormed,
            let node = reader.value("use_identity_as_username")
        {
            reader.report(
                "use_identity_as_username needs a TLS listener with tls.require_certificate: true "
                    + "(the user name is the client certificate's subject CN)",
                at: node
            )
        }
        let port =
            portNode.map { reader.int($0, in: 1...65535) } ?? Self.defaultPort(transport: transport, tls: tls != nil)
        var name: String?
        if let nameNode, let text = reader.string(nameNode) {
            name = text
            if !NameRules.isInstanceName(text) {
                reader.report(
                    "expected a name made of lowercase letters, digits, '_' and '-', got \(nameNode.quoted)",
                    at: nameNode
                )
            }
        }
        reader.finish()
        guard let bind, let port else { return nil }
        let automatic = bind.contains(":") ? "[\(bind)]:\(port)" : "\(bind):\(port)"
        self.init(
            name: name ?? automatic, bind: bind, port: port, tls: tls, useIdentityAsUsername: useIdentity,
            transport: transport)
    }

    /// `protocol`: `mqtt` (default) or `websocket` (Mosquitto's `websockets` too).
    private static func readTransport(_ reader: ConfigReader) -> ListenerTransport {
        guard let node = reader.value("protocol") else { return .mqtt }
        if case .string(let text) = node.content, text.lowercased() == "websockets" { return .websocket }
        return reader.choice(node, as: ListenerTransport.self) ?? .mqtt
    }
}

extension ListenerTLSConfig {
    /// Reads a listener's `tls:` section; `nil` when `cert_file` or `key_file` is missing (reported).
    init?(reading reader: ConfigReader) {
        let certFile = Self.file(reader, "cert_file", required: "the server's certificate chain, PEM")
        let keyFile = Self.file(reader, "key_file", required: "the server's private key, PEM")
        let caFile = Self.file(reader, "ca_file", required: nil)
        let requireCertificate = reader.bool("require_certificate", default: false)
        let minimumVersion = reader.choice("min_version", default: TLSVersion.tls12)
        if requireCertificate, caFile == nil, let node = reader.value("require_certificate") {
            reader.report(
                "require_certificate needs ca_file: the CA that signs the clients' certificates", at: node)
        }
        reader.finish()
        guard let certFile, let keyFile else { return nil }
        self.init(
            certFile: certFile, keyFile: keyFile, caFile: caFile, requireCertificate: requireCertificate,
            minimumVersion: minimumVersion)
    }

    /// A file path at `key`; reported as missing when `required` explains it and it is absent.
    private static func file(_ reader: ConfigReader, _ key: String, required: String?) -> ConfigFileSetting? {
        guard let node = reader.value(key) else {
            if let required { reader.reportMissing(key, required) }
            return nil
        }
        guard let path = reader.string(node) else { return nil }
        if path.isEmpty || path.contains(where: { $0 == "\0" || $0.isNewline }) {
            reader.report("expected a file path, got \(node.quoted)", at: node)
            return nil
        }
        return ConfigFileSetting(path: path, location: node)
    }
}

extension String.StringInterpolation {
    /// "broker.listeners[0] (line 5)": where an earlier, conflicting entry is.
    mutating func appendInterpolation(where node: ConfigNode) {
        appendLiteral(node.path)
        if let line = node.line { appendLiteral(" (line \(line))") }
    }
}
