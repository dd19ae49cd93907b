public import AdapterKit
import Logging
public import NIOCore
public import ServiceLifecycle
import Synchronization
public import WharfConfig
import WharfCore

/// Owns the adapter instances: runs each as a child task, and on reload stops the removed and
/// changed ones (waiting until they are gone, so a port is free again) before starting the new
/// and changed ones. An adapter that stops on its own is logged, not restarted: adapters handle
/// their own reconnects.
public final class AdapterSupervisor: Service, Sendable, CustomStringConvertible {
    /// A built adapter with the config it was built from.
    struct Instance: Sendable {
        var config: AdapterConfig
        var adapter: any Adapter
    }

    private struct Running: Sendable {
        var instance: Instance
        var stop: AsyncStream<Void>.Continuation
        var done: AsyncStream<Void>
    }

    private struct Change: Sendable {
        var stop: [String]
        var start: [Instance]
    }

    private let registry: AdapterRegistry
    private let bus: any MessageBus
    private let eventLoopGroup: (any EventLoopGroup)?
    private let logger: Logger
    private let changes: AsyncStream<Change>
    private let changesContinuation: AsyncStream<Change>.Continuation
    /// What should run, updated at once by `apply`; the run loop catches up.
    private let desired: Mutex<[String: AdapterConfig]>
    private let running = Mutex<[String: Running]>([:])

    /// Builds the enabled adapters of `configs`; throws every problem of the first that fails.
    public init(
        registry: AdapterRegistry,
        bus: any MessageBus,
        configs: [AdapterConfig],
        file: String,
        eventLoopGroup: (any EventLoopGroup)? = nil
    ) throws(ConfigError) {
        self.registry = registry
        self.bus = bus
        self.eventLoopGroup = eventLoopGroup
        self.logger = Logger(label: "wharf.adapters")
        let (stream, continuation) = AsyncStream<Change>.makeStream()
        changes = stream
        changesContinuation = continuation
        let enabled = configs.filter(\.enabled)
        desired = Mutex(Dictionary(enabled.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last }))
        let instances = try Self.build(
            enabled, registry: registry, bus: bus, eventLoopGroup: eventLoopGroup, file: file)
        changesContinuation.yield(Change(stop: [], start: instances))
    }

    /// Builds adapters without starting them.
    private static func build(
        _ configs: [AdapterConfig],
        registry: AdapterRegistry,
        bus: any MessageBus,
        eventLoopGroup: (any EventLoopGroup)?,
        file: String
    ) throws(ConfigError) -> [Instance] {
        var instances: [Instance] = []
        for config in configs {
            var logger = Logger(label: "wharf.adapter.\(config.name)")
            logger[metadataKey: "adapter.name"] = "\(config.name)"
            logger[metadataKey: "adapter.type"] = "\(config.type)"
            let context = AdapterContext(
                name: config.name, bus: bus, logger: logger, clock: SystemClock(), eventLoopGroup: eventLoopGroup)
            instances.append(
                Instance(
                    config: config, adapter: try registry.makeAdapter(config: config, context: context, file: file)))
        }
        return instances
    }

    /// Switches to `configs`: builds the new and changed adapters first (so an invalid section
    /// changes nothing), then queues the stops and starts. Returns the names stopped and started.
    public func apply(_ configs: [AdapterConfig], file: String) throws(ConfigError) -> (
        stopped: [String], started: [String]
    ) {
        let wanted = Dictionary(configs.filter(\.enabled).map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        let current = desired.withLock { $0 }
        let stop = current.keys.filter { wanted[$0] != current[$0] }.sorted()
        let start = wanted.values.filter { current[$0.name] != $0 }.sorted { $0.name < $1.name }
        let instances = try Self.build(
            start, registry: registry, bus: bus, eventLoopGroup: eventLoopGroup, file: file)
        desired.withLock { $0 = wanted }
        let unchanged = Set(wanted.keys).subtracting(stop).subtracting(instances.map(\.config.name))
        for instance in running.withLock({ Array($0.values) }) where unchanged.contains(instance.instance.config.name) {
            (instance.instance.adapter as? any ProcessAdapter)?.reloadedUnchanged()
        }
        if !stop.isEmpty || !instances.isEmpty {
            changesContinuation.yield(Change(stop: stop, start: instances))
        }
        return (stop, instances.map(\.config.name))
    }

    /// The name in service lifecycle logs.
    public var description: String { "AdapterSupervisor" }

    /// The adapters running now, in name order, with their health.
    public func statuses() -> [AdapterStatus] {
        running.withLock { $0.values.map(\.instance) }.sorted { $0.config.name < $1.config.name }.map { instance in
            let (health, detail): (String, String?) =
                switch instance.adapter.health {
                case .starting: ("starting", nil)
                case .healthy: ("healthy", nil)
                case .degraded(let why): ("degraded", why)
                case .failed(let why): ("failed", why)
                case .stopped: ("stopped", nil)
                }
            return AdapterStatus(
                name: instance.config.name,
                type: instance.config.type,
                health: health,
                detail: detail,
                plugin: (instance.adapter as? any ProcessAdapter)?.processStatus
            )
        }
    }

    /// Restarts the running process adapter `name` (a plugin) now, clearing its quarantine.
    /// Returns why it cannot when there is no such adapter or it runs no process.
    public func restartProcess(named name: String) -> String? {
        guard let instance = running.withLock({ $0[name]?.instance }) else {
            return "no adapter named '\(name)' is running"
        }
        guard let adapter = instance.adapter as? any ProcessAdapter else {
            return "adapter '\(name)' is of type \(instance.config.type), which runs no process to restart"
        }
        adapter.restart()
        return nil
    }

    /// Runs the adapters until graceful shutdown, applying changes as they come.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await change in changes.cancelOnGracefulShutdown() {
                for name in change.stop {
                    await stop(name)
                }
                for instance in change.start {
                    launch(instance, in: &group)
                }
            }
            for name in running.withLock({ Array($0.keys) }) {
                await stop(name)
            }
        }
    }

    private func launch(_ instance: Instance, in group: inout DiscardingTaskGroup) {
        let (stopSignal, stop) = AsyncStream<Void>.makeStream()
        let (done, finished) = AsyncStream<Void>.makeStream()
        let name = instance.config.name
        running.withLock { $0[name] = Running(instance: instance, stop: stop, done: done) }
        logger.notice(
            "adapter starting", metadata: ["adapter.name": "\(name)", "adapter.type": "\(instance.config.type)"])
        let logger = self.logger
        group.addTask {
            defer { finished.finish() }
            await withTaskGroup(of: Void.self) { inner in
                inner.addTask {
                    do {
                        try await instance.adapter.run()
                        logger.notice("adapter stopped", metadata: ["adapter.name": "\(name)"])
                    } catch is CancellationError {
                        logger.notice("adapter stopped", metadata: ["adapter.name": "\(name)"])
                    } catch {
                        logger.error("adapter failed", metadata: ["adapter.name": "\(name)", "error": "\(error)"])
                    }
                }
                inner.addTask {
                    for await _ in stopSignal {}
                }
                _ = await inner.next()
                inner.cancelAll()
            }
        }
    }

    /// Stops one adapter and waits until its task has ended.
    private func stop(_ name: String) async {
        guard let entry = running.withLock({ $0.removeValue(forKey: name) }) else { return }
        entry.stop.finish()
        for await _ in entry.done {}
    }
}
