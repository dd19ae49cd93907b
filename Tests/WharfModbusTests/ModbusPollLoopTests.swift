import AdapterKit
import Logging
import Synchronization
import Testing
import WharfConfig
import WharfCore
import WharfModbus

/// The poll loop's shortcuts keep the published behaviour: unchanged reads are skipped, yet a
/// good read after a failure is published again even when its value did not change.
@Suite struct ModbusPollLoopTests {
    @Test func anUnchangedValueIsPublishedAgainAfterAnOutage() async throws {
        let server = try await ModbusTestServer.start()
        server.tables.withLock { $0.holding[0] = 42 }
        let yaml = """
            adapters:
              - name: plant
                type: modbus
                backoff: { base: 20ms, cap: 50ms }
                devices:
                  - name: m
                    tcp: { host: 127.0.0.1, port: \(server.port) }
                    response_timeout: 100ms
                    poll_interval: 10ms
                    points:
                      - { name: a, table: holding, address: 0, type: uint16, publish: on_change }
                      - { name: b, table: holding, address: 1, type: uint16, publish: on_change }

            """
        let configuration = try ConfigLoader.load(yaml: yaml, file: "wharf.yaml").get()
        let bus = RecordingBus()
        let adapter = try ModbusAdapter(
            config: configuration.adapters[0],
            context: AdapterContext(
                name: "plant", bus: bus, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                clock: SystemClock()))
        let running = Task { try await adapter.run() }
        // Publishing runs after the poll thread hands a batch over: wait for both.
        #expect(await bus.waitFor { _ in server.requests(3) >= 10 && !bus.payloads(on: "devices/m/a").isEmpty })
        #expect(bus.payloads(on: "devices/m/a").count == 1)

        server.tables.withLock { $0.answering = false }
        #expect(
            await bus.waitFor { _ in bus.payloads(on: "devices/m/a").last?.contains(#""error":"timeout""#) == true })
        server.tables.withLock { $0.answering = true }
        #expect(await bus.waitFor { _ in bus.payloads(on: "devices/m/a").count == 3 })
        let requests = server.requests(3)
        #expect(await bus.waitFor { _ in server.requests(3) >= requests + 10 })
        server.tables.withLock { $0.holding[1] = 7 }
        #expect(await bus.waitFor { _ in bus.payloads(on: "devices/m/b").last?.hasPrefix(#"{"value":7,"#) == true })
        running.cancel()
        try await running.value

        let values = bus.payloads(on: "devices/m/a")
        #expect(values.count == 3)
        #expect(values.first?.hasPrefix(#"{"value":42,"quality":"good""#) == true)
        #expect(values.last?.hasPrefix(#"{"value":42,"quality":"good""#) == true)
        #expect(bus.payloads(on: "devices/m/b").count == 4)
        await server.stop()
    }
}
