public import AdapterKit
import Broker
import Logging
public import WharfConfig
import WharfCore

/// What `wharfd --check` and `wharfctl check` verify beyond the file's own schema: every adapter
/// section (disabled ones too) as its adapter reads it, and the broker's password and ACL files.
public enum ConfigCheck {
    /// Every problem found, one line each (`file:line:column: key.path: message`), in file order.
    public static func problems(
        in configuration: WharfConfiguration,
        file: String,
        registry: AdapterRegistry = BuiltinAdapters.registry()
    ) -> [String] {
        var issues: [ConfigIssue] = []
        for config in configuration.adapters {
            let context = AdapterContext(
                name: config.name,
                bus: CheckBus(),
                logger: Logger(label: "wharf.check", factory: { _ in SwiftLogNoOpLogHandler() }),
                clock: SystemClock()
            )
            do {
                // Building an adapter only reads its settings; nothing starts before `run()`.
                _ = try registry.makeAdapter(config: config, context: context, file: file)
            } catch {
                issues += error.issues
            }
        }
        var lines = issues.map(\.description)
        do {
            _ = try MQTTBroker.loadAccessControl(configuration.broker)
        } catch {
            lines.append("\(error)")
        }
        return lines
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

    func retainedMessages(matching filter: String, principal: Principal) -> [Message] { [] }
}
