import AdapterKit
import AdminAPI
import Synchronization
import Testing
import WharfConfig
import WharfCore

/// What the fake adapters did, by instance name.
final class AdapterLog: Sendable {
    static let shared = AdapterLog()
    private let events = Mutex<[String: [String]]>([:])

    func record(_ name: String, _ event: String) {
        events.withLock { $0[name, default: []].append(event) }
    }

    func events(_ name: String) -> [String] {
        events.withLock { $0[name] ?? [] }
    }
}

/// Runs until cancelled, logging `start <generation>` and `stop <generation>`; refuses a config
/// with `fail: true`.
struct FakeAdapter: Adapter {
    static let typeName = "fake"
    let name: String
    let generation: String

    init(config: AdapterConfig, context: AdapterContext) throws(ConfigError) {
        if config.settings["fail"] == .bool(true) {
            throw ConfigError(issues: [ConfigIssue(file: "test", path: "adapters.\(config.name)", message: "refused")])
        }
        name = config.name
        if case .int(let value)? = config.settings["generation"] {
            generation = "\(value)"
        } else {
            generation = "0"
        }
    }

    var health: AdapterHealth { .degraded("fake") }

    func run() async throws {
        AdapterLog.shared.record(name, "start \(generation)")
        defer { AdapterLog.shared.record(name, "stop \(generation)") }
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(60))
        }
    }
}

/// A bus that accepts everything and routes nowhere.
struct NullBus: MessageBus {
    func publish(_ message: Message) async throws(PublishError) -> PublishReceipt {
        PublishReceipt(matchedSubscribers: 0)
    }

    func subscribe(filter: String, qos: QoS, principal: Principal, handler: @escaping @Sendable (Message) -> Void)
        throws(SubscribeError)
        -> BusSubscription
    {
        BusSubscription {}
    }

    func retainedMessages(matching filter: String, principal: Principal) throws(SubscribeError) -> [Message] { [] }
}

@Suite struct AdapterSupervisorTests {
    static func registry() -> AdapterRegistry {
        var registry = AdapterRegistry()
        registry.register(FakeAdapter.self)
        return registry
    }

    static func fake(_ name: String, generation: Int = 0, enabled: Bool = true, fail: Bool = false) -> AdapterConfig {
        AdapterConfig(
            name: name,
            type: "fake",
            enabled: enabled,
            settings: .object([.init("generation", .int(generation)), .init("fail", .bool(fail))])
        )
    }

    /// Waits (bounded) until `name`'s events are `expected`.
    static func waitForEvents(_ name: String, _ expected: [String]) async throws {
        for _ in 0..<300 where AdapterLog.shared.events(name) != expected {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(AdapterLog.shared.events(name) == expected)
    }

    @Test func startsChangesAndStopsAdaptersLeavingUnchangedOnesAlone() async throws {
        let supervisor = try AdapterSupervisor(
            registry: Self.registry(),
            bus: NullBus(),
            configs: [
                Self.fake("sv-keep"), Self.fake("sv-change"), Self.fake("sv-remove"),
                Self.fake("sv-off", enabled: false),
            ],
            file: "wharf.yaml"
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await supervisor.run() }
            try await Self.waitForEvents("sv-change", ["start 0"])
            #expect(supervisor.statuses().map(\.name) == ["sv-change", "sv-keep", "sv-remove"])
            #expect(supervisor.statuses().first?.health == "degraded")
            #expect(supervisor.statuses().first?.detail == "fake")
            #expect(AdapterLog.shared.events("sv-off") == [])

            let (stopped, started) = try supervisor.apply(
                [Self.fake("sv-keep"), Self.fake("sv-change", generation: 1), Self.fake("sv-new")],
                file: "wharf.yaml"
            )
            #expect(stopped == ["sv-change", "sv-remove"])
            #expect(started == ["sv-change", "sv-new"])
            // The old instance is gone before its replacement starts.
            try await Self.waitForEvents("sv-change", ["start 0", "stop 0", "start 1"])
            try await Self.waitForEvents("sv-remove", ["start 0", "stop 0"])
            try await Self.waitForEvents("sv-new", ["start 0"])
            #expect(AdapterLog.shared.events("sv-keep") == ["start 0"])
            #expect(supervisor.statuses().map(\.name) == ["sv-change", "sv-keep", "sv-new"])
            group.cancelAll()
        }
        #expect(AdapterLog.shared.events("sv-keep") == ["start 0", "stop 0"])
    }

    @Test func aRefusedAdapterChangesNothing() async throws {
        let supervisor = try AdapterSupervisor(
            registry: Self.registry(), bus: NullBus(), configs: [Self.fake("rf-a")], file: "wharf.yaml")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await supervisor.run() }
            try await Self.waitForEvents("rf-a", ["start 0"])
            #expect(throws: ConfigError.self) {
                try supervisor.apply([Self.fake("rf-b", fail: true)], file: "wharf.yaml")
            }
            #expect(throws: ConfigError.self) {
                try supervisor.apply([Self.fake("rf-a"), Self.fake("rf-c", type: "nope")], file: "wharf.yaml")
            }
            // A later valid apply still sees rf-a as running and unchanged.
            let (stopped, started) = try supervisor.apply([Self.fake("rf-a")], file: "wharf.yaml")
            #expect(stopped.isEmpty && started.isEmpty)
            #expect(AdapterLog.shared.events("rf-a") == ["start 0"])
            group.cancelAll()
        }
    }

    @Test func anInvalidInitialAdapterIsReported() {
        #expect(throws: ConfigError.self) {
            try AdapterSupervisor(
                registry: Self.registry(), bus: NullBus(), configs: [Self.fake("ia", fail: true)], file: "wharf.yaml")
        }
    }
}

extension AdapterSupervisorTests {
    static func fake(_ name: String, type: String) -> AdapterConfig {
        AdapterConfig(name: name, type: type)
    }
}
