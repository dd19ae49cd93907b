import AdapterKit
import Logging
import NIOCore
import Testing
import WharfConfig
import WharfCore
import WharfModbus

@Suite struct ModbusAdapterTests {
    /// A TCP port on 127.0.0.1 that nothing listens on (port 1 needs privileges to bind).
    static let refusedPort = 1

    static let yaml = """
        adapters:
          - name: plant
            type: modbus
            backoff: { base: 50ms, cap: 100ms }
            devices:
              - name: m
                tcp: { host: 127.0.0.1, port: \(refusedPort) }
                points:
                  - { name: v, table: holding, address: 0, type: uint16, writable: true }
                  - { name: r, table: input, address: 0, type: uint16 }

        """

    private func makeAdapter(_ bus: RecordingBus) throws -> ModbusAdapter {
        let configuration = try ConfigLoader.load(yaml: Self.yaml, file: "wharf.yaml").get()
        let context = AdapterContext(
            name: "plant",
            bus: bus,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            clock: SystemClock()
        )
        return try ModbusAdapter(config: configuration.adapters[0], context: context)
    }

    @Test func typeName() {
        #expect(ModbusAdapter.typeName == "modbus")
    }

    @Test func refusesAnInvalidConfiguration() {
        let config = AdapterConfig(name: "plant", type: "modbus", settings: ["devices": [["name": "m"]]])
        let context = AdapterContext(
            name: "plant", bus: RecordingBus(), logger: Logger(label: "test"), clock: SystemClock())
        #expect(throws: ConfigError.self) { try ModbusAdapter(config: config, context: context) }
    }

    @Test func anUnreachableDeviceGoesOfflineAndAnswersCommands() async throws {
        let bus = RecordingBus()
        let adapter = try makeAdapter(bus)
        #expect(adapter.health == .stopped)
        let running = Task { try await adapter.run() }
        defer { running.cancel() }

        #expect(await bus.waitFor { $0.contains { $0.topic == "devices/m/$status" } })
        let status = try #require(bus.messages.first { $0.topic == "devices/m/$status" })
        #expect(status.retain && status.qos == .atLeastOnce)
        #expect(status.properties.contentType == "application/json")
        #expect(String(buffer: status.payload).hasPrefix(#"{"state":"offline","reason":"connection refused","#))
        #expect(adapter.health == .failed("all 1 devices offline: m (connection refused)"))
        #expect(await bus.waitFor { $0.contains { $0.topic == "devices/m/r" } })
        // Failures are published once, however many reconnects fail.
        try await Task.sleep(for: .milliseconds(300))
        #expect(bus.payloads(on: "devices/m/r").count == 1)
        #expect(
            bus.payloads(on: "devices/m/r")[0].hasPrefix(
                #"{"value":null,"quality":"bad","error":"connection refused","#))
        #expect(bus.payloads(on: "devices/m/$status").count == 1)

        var properties = MessageProperties()
        properties.responseTopic = "reply/1"
        properties.correlationData = [1, 2, 3]
        _ = try await bus.publish(
            Message(topic: "devices/m/r/set", payload: ByteBuffer(string: "5"), principal: .adapter("test")))
        _ = try await bus.publish(
            Message(
                topic: "devices/m/v/set", payload: ByteBuffer(string: #"{"value": 7}"#), properties: properties,
                principal: .adapter("test")))
        _ = try await bus.publish(
            Message(topic: "devices/m/v/set", payload: ByteBuffer(string: "70000"), principal: .adapter("test")))
        #expect(await bus.waitFor { $0.filter { $0.topic.hasSuffix("/set/result") }.count == 3 })
        let results = bus.payloads(on: "devices/m/r/set/result") + bus.payloads(on: "devices/m/v/set/result")
        #expect(results[0].hasPrefix(#"{"ok":false,"error":"point 'r' is not writable","#))
        #expect(results[1].hasPrefix(#"{"ok":false,"error":"write failed: device 'm' is not connected","#))
        #expect(results[2].hasPrefix(#"{"ok":false,"error":"value 70000 is out of range for uint16 (0 to 65535)","#))
        let reply = try #require(bus.messages.first { $0.topic == "reply/1" })
        #expect(reply.properties.correlationData == [1, 2, 3])
        #expect(String(buffer: reply.payload) == results[1])

        running.cancel()
        try await running.value
        #expect(bus.subscriptionCount == 0)
        #expect(adapter.health == .stopped)
        #expect(
            bus.payloads(on: "devices/m/$status").last?.hasPrefix(#"{"state":"offline","reason":"adapter stopped","#)
                == true)
    }
}
