import AdapterKit
import Logging
import NIOCore
import Synchronization
import Testing
import WharfConfig
import WharfCore
import WharfModbus

/// The poll loop against a publisher that falls behind: polls stop at the backlog limit instead of
/// queueing without bound, writes still go through, and nothing polled is lost.
@Suite struct ModbusBackpressureTests {
    private func adapter(port: Int, qos: Int, bus: GatedBus) throws -> ModbusAdapter {
        let yaml = """
            adapters:
              - name: plant
                type: modbus
                qos: \(qos)
                devices:
                  - name: m
                    tcp: { host: 127.0.0.1, port: \(port) }
                    poll_interval: 0s
                    points:
                      - { name: v, table: holding, address: 0, type: uint16, writable: true }

            """
        let configuration = try ConfigLoader.load(yaml: yaml, file: "wharf.yaml").get()
        let context = AdapterContext(
            name: "plant",
            bus: bus,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            clock: SystemClock()
        )
        return try ModbusAdapter(config: configuration.adapters[0], context: context)
    }

    @Test(arguments: [0, 1])
    func aStalledPublisherHoldsThePollsAndLosesNothing(qos: Int) async throws {
        let server = try await ModbusTestServer.start()
        let bus = GatedBus()
        let adapter = try adapter(port: server.port, qos: qos, bus: bus)
        let running = Task { try await adapter.run() }

        // The publisher is stuck in one of the batches it took (at most a full backlog, taken at
        // once) while 16 more wait: the thread then holds its polls (0s interval).
        // Wait (bounded, however loaded the machine) until the polls stop: at least 16 made, then
        // none for 200 ms.
        var held = 0
        for _ in 0..<100 {
            let before = server.requests(3)
            try await Task.sleep(for: .milliseconds(200))
            held = server.requests(3)
            if held >= 16 && held == before { break }
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(held >= 16 && held <= 2 * 16 + 2)
        #expect(server.requests(3) == held)

        // Writes are made while polls are held.
        _ = try await bus.publish(
            Message(topic: "devices/m/v/set", payload: ByteBuffer(string: "9"), principal: .uplink))
        #expect(await bus.recorder.waitFor { _ in server.requests(6) == 1 })
        #expect(server.tables.withLock { $0.holding[0] } == 9)

        bus.openGate()
        #expect(await bus.recorder.waitFor { _ in server.requests(3) > held + 100 })
        running.cancel()
        try await running.value
        // Every answered poll was published, the pending ones while stopping.
        let readings = bus.recorder.payloads(on: "devices/m/v")
        #expect(readings.count == server.requests(3))
        #expect(readings.last?.hasPrefix(#"{"value":9,"#) == true)
        #expect(bus.recorder.payloads(on: "devices/m/v/set/result").first?.hasPrefix(#"{"ok":true,"#) == true)
        await server.stop()
    }
}
