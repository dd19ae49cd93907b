public import AdapterKit
import Broker
import Logging
import WharfAuth
import WharfCoAP
public import WharfConfig
import WharfCore
import WharfModbus

/// What `wharfd --check` and `wharfctl check` verify beyond the file's own schema: every adapter
/// section (disabled ones too) as its adapter reads it, the TLS listeners' certificate and key
/// files, the broker's password and ACL files, and the admin API's certificate, key and password
/// files.
public enum ConfigCheck {
    /// Every problem found, one line each (`file:line:column: key.path: message`), in file order.
    public static func problems(
        in configuration: WharfConfiguration,
        file: String,
        registry: AdapterRegistry = BuiltinAdapters.registry()
    ) -> [String] {
        var lines = adapterIssues(in: configuration, file: file, registry: registry).map(\.description)
        for listener in configuration.broker.listeners {
            if let tls = listener.tls { lines += ListenerTLS.problems(tls).map(\.description) }
        }
        do {
            _ = try MQTTBroker.loadAccessControl(configuration.broker)
        } catch {
            lines.append("\(error)")
        }
        lines += adminIssues(configuration.admin).map(\.description)
        return lines
    }

    /// The admin API's HTTPS files and its own password file, placed at the settings that name them.
    static func adminIssues(_ admin: AdminConfig) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        if let tls = admin.tls { issues += ListenerTLS.problems(tls) }
        if let setting = admin.passwordFile {
            do {
                _ = try MQTTBroker.loadPasswordFile(setting.path, role: "admin password file")
            } catch {
                issues.append(setting.issue("\(error)"))
            }
        }
        return issues
    }

    /// The issues of each adapter section, as the adapter reads it, with key paths.
    public static func adapterIssues(
        in configuration: WharfConfiguration,
        file: String,
        registry: AdapterRegistry = BuiltinAdapters.registry()
    ) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        for config in configuration.adapters {
            do {
                // Building an adapter only reads its settings; nothing starts before `run()`.
                _ = try registry.makeAdapter(config: config, context: checkContext(config), file: file)
            } catch {
                issues += error.issues
            }
        }
        return issues
    }

    /// What the file allows that is probably a mistake, without refusing it: one line each
    /// (`file:line:column: key.path: warning: message`).
    ///
    /// A CoAP server that listens beyond the loopback interface and lets plain (unauthenticated)
    /// peers publish to command topics: those of the `/set` convention and those the Modbus and
    /// CoAP adapters take commands from (see `CommandExposure`). Only enabled adapters count.
    public static func warnings(
        in configuration: WharfConfiguration,
        file: String,
        registry: AdapterRegistry = BuiltinAdapters.registry()
    ) -> [String] {
        var servers: [(config: AdapterConfig, settings: CoAPSettings)] = []
        var commandTopics: [String] = []
        for config in configuration.adapters where config.enabled {
            guard let adapter = try? registry.makeAdapter(config: config, context: checkContext(config), file: file)
            else { continue }
            if let modbus = adapter as? ModbusAdapter {
                let settings = modbus.configuration
                for device in settings.devices {
                    commandTopics += device.points.map {
                        ModbusTopics.expand(
                            settings.commandTopic, adapter: config.name, device: device.name, point: $0.name)
                    }
                }
            } else if let coap = adapter as? CoAPAdapter {
                servers.append((config, coap.settings))
                commandTopics += coap.settings.devices.map(\.commandTopic).filter { !$0.isEmpty }
            }
        }
        var lines: [String] = []
        for (config, settings) in servers {
            let overlaps = CommandExposure.overlaps(of: settings, commandTopics: commandTopics)
            var filters: [String] = []
            for overlap in overlaps where !filters.contains(overlap.filter) { filters.append(overlap.filter) }
            for filter in filters {
                let reached = overlaps.filter { $0.filter == filter }.map { overlap in
                    overlap.command == nil ? "\(overlap.example) (a /set command topic)" : overlap.example
                }
                let shown = reached.prefix(3).joined(separator: ", ")
                let more = reached.count > 3 ? " and \(reached.count - 3) more" : ""
                let message =
                    "warning: CoAP listens on \(settings.bind) and plain (non-DTLS) peers may publish to command"
                    + " topics: '\(filter)' covers \(shown)\(more); narrow plain.publish (default"
                    + " \(CoAPSettings.telemetryFilters.joined(separator: ", "))), set allow_plain: false,"
                    + " or bind to 127.0.0.1"
                lines.append(plainPublishIssue(config: config, file: file, message: message).description)
            }
        }
        lines += unnamedPrincipals(
            in: configuration, file: file, coapServers: servers.map { ($0.config.name, $0.settings) })
        return lines
    }

    /// With an ACL file, every principal the configuration brings (an adapter, the uplink, the
    /// CoAP peers the adapters admit) that no `user` section names: the ACL refuses it everything
    /// it does not grant, which is everything. Probably an oversight, so it is named.
    private static func unnamedPrincipals(
        in configuration: WharfConfiguration,
        file: String,
        coapServers: [(name: String, settings: CoAPSettings)]
    ) -> [String] {
        let broker = configuration.broker
        guard !broker.aclFile.isEmpty, let control = try? MQTTBroker.loadAccessControl(broker),
            let acl = control.acl
        else { return [] }
        var expected: [(name: String, what: String)] = []
        for config in configuration.adapters where config.enabled {
            expected.append(("adapter:\(config.name)", "the adapter '\(config.name)'"))
        }
        for (name, settings) in coapServers {
            if settings.allowPlain { expected.append(("coap-plain:\(name)", "plain CoAP peers of '\(name)'")) }
            for entry in settings.dtls.psk {
                expected.append(("coap-psk:\(entry.identity)", "the CoAP PSK identity '\(entry.identity)'"))
            }
            for entry in settings.dtls.certificates {
                expected.append(("coap-cert:\(entry.subject)", "the CoAP certificate '\(entry.subject)'"))
            }
        }
        let uplink = configuration.uplink
        if uplink.enabled, !uplink.forward.isEmpty || !uplink.subscribe.isEmpty {
            expected.append(("wharf:uplink", "the uplink's forward rules and remote subscriptions"))
        }
        return expected.filter { acl.principalRules[$0.name] == nil }.map { name, what in
            "\(broker.aclFile): warning: no 'user \(name)' section: \(what) may publish and subscribe to nothing"
        }
    }

    /// `message` about `plain.publish` of a CoAP entry, placed where it is written (or at `bind`,
    /// or the entry, when it is left at its default).
    private static func plainPublishIssue(config: AdapterConfig, file: String, message: String) -> ConfigIssue {
        let reader = ConfigReader(config.source)
        let node = reader.section("plain").value("publish") ?? reader.value("bind") ?? config.source
        return ConfigIssue(
            file: file, line: node.line, column: node.column,
            path: ConfigPath.key("publish", in: ConfigPath.key("plain", in: config.source.path)), message: message)
    }

    /// The context of an adapter built only to read its settings.
    private static func checkContext(_ config: AdapterConfig) -> AdapterContext {
        AdapterContext(
            name: config.name,
            bus: CheckBus(),
            logger: Logger(label: "wharf.check", factory: { _ in SwiftLogNoOpLogHandler() }),
            clock: SystemClock()
        )
    }
}

/// The bus given to adapters built only to check their settings: it refuses everything.
struct CheckBus: MessageBus {
    func publish(_ message: Message) async throws(PublishError) -> PublishReceipt {
        throw PublishError(reason: "shutting-down", message: "a configuration check runs no adapters")
    }

    func subscribe(
        filter: String,
        qos: QoS,
        principal: Principal,
        handler: @escaping @Sendable (Message) -> Void
    ) throws(SubscribeError) -> BusSubscription {
        throw SubscribeError(message: "a configuration check runs no adapters")
    }

    func retainedMessages(matching filter: String, principal: Principal) throws(SubscribeError) -> [Message] { [] }
}
