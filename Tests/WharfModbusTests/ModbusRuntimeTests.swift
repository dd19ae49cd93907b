import AdapterKit
import Logging
import NIOCore
import Synchronization
import Testing
import WharfConfig
import WharfCore
import WharfModbus

/// The adapter against an in-process Modbus TCP server, in real time (a few hundred milliseconds each).
@Suite struct ModbusRuntimeTests {
    private func adapter(_ yaml: String, bus: RecordingBus) throws -> ModbusAdapter {
        let configuration = try ConfigLoader.load(yaml: yaml, file: "wharf.yaml").get()
        let context = AdapterContext(
            name: "plant",
            bus: bus,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            clock: SystemClock()
        )
        return try ModbusAdapter(config: configuration.adapters[0], context: context)
    }

    private func document(devices: [(name: String, port: Int, extra: String, points: [String])]) -> String {
        var text = """
            adapters:
              - name: plant
                type: modbus
                backoff: { base: 50ms, cap: 100ms }
                devices:

            """
        for device in devices {
            text += "      - name: \(device.name)\n"
            text += "        tcp: { host: 127.0.0.1, port: \(device.port) }\n"
            text += "        response_timeout: 200ms\n        poll_interval: 50ms\n"
            if !device.extra.isEmpty { text += "        \(device.extra)\n" }
            text += "        points:\n"
            for point in device.points { text += "          - \(point)\n" }
        }
        return text
    }

    private func last(_ bus: RecordingBus, _ topic: String) -> String {
        bus.payloads(on: topic).last ?? ""
    }

    @Test func publishesEveryTypeWithOneRequestPerTable() async throws {
        let server = try await ModbusTestServer.start()
        server.tables.withLock { tables in
            tables.holding[0] = 0x4367
            tables.holding[1] = 0x6666
            tables.holding[2] = UInt16(bitPattern: -5)
            tables.holding[10] = 0x4845
            tables.holding[11] = 0x4C4C
            tables.holding[12] = 0x4F00
            tables.holding[20] = 0x0008
            tables.input[0] = 2314
            tables.coils[0] = true
        }
        let bus = RecordingBus()
        let adapter = try adapter(
            document(devices: [
                (
                    "m", server.port, "",
                    [
                        "{ name: voltage, table: holding, address: 0, type: float32, unit: V }",
                        "{ name: temp, table: holding, address: 2, type: int16 }",
                        "{ name: label, table: holding, address: 10, type: string, length: 3 }",
                        "{ name: alarm, table: holding, address: 20, type: bool, bit: 3 }",
                        "{ name: current, table: input, address: 0, type: uint16, scale: 0.1 }",
                        "{ name: run, table: coil, address: 0, type: bool }",
                    ]
                )
            ]),
            bus: bus)
        let running = Task { try await adapter.run() }
        #expect(await bus.waitFor { $0.filter { $0.topic == "devices/m/run" }.count >= 3 })
        running.cancel()
        try await running.value

        #expect(last(bus, "devices/m/voltage").hasPrefix(#"{"value":231.4,"unit":"V","quality":"good","timestamp":"#))
        #expect(last(bus, "devices/m/temp").hasPrefix(#"{"value":-5,"quality":"good""#))
        #expect(last(bus, "devices/m/label").hasPrefix(#"{"value":"HELLO","quality":"good""#))
        #expect(last(bus, "devices/m/alarm").hasPrefix(#"{"value":true,"#))
        #expect(last(bus, "devices/m/current").hasPrefix(#"{"value":231.4,"#))
        #expect(last(bus, "devices/m/run").hasPrefix(#"{"value":true,"#))
        let telemetry = try #require(bus.messages.first { $0.topic == "devices/m/voltage" })
        #expect(telemetry.qos == .atLeastOnce && !telemetry.retain)
        #expect(telemetry.properties.contentType == "application/json")
        #expect(bus.payloads(on: "devices/m/$status").first?.hasPrefix(#"{"state":"online","#) == true)
        // Holding 0...20 is one batched read (gaps of at most 8); each table is read once per poll.
        let polls = server.requests(1)
        #expect(polls >= 3)
        #expect(abs(server.requests(3) - polls) <= 1 && abs(server.requests(4) - polls) <= 1)
        #expect(server.requests(2) == 0)
        await server.stop()
    }

    @Test func onChangePublishesOnlyChanges() async throws {
        let server = try await ModbusTestServer.start()
        let bus = RecordingBus()
        let adapter = try adapter(
            document(devices: [
                (
                    "m", server.port, "",
                    [
                        "{ name: level, table: input, address: 0, type: uint16, publish: on_change, deadband: 5 }",
                        "{ name: tick, table: input, address: 1, type: uint16 }",
                    ]
                )
            ]),
            bus: bus)
        let running = Task { try await adapter.run() }
        #expect(await bus.waitFor { $0.filter { $0.topic == "devices/m/tick" }.count >= 4 })
        server.tables.withLock { $0.input[0] = 3 }
        let ticks = bus.payloads(on: "devices/m/tick").count
        #expect(await bus.waitFor { $0.filter { $0.topic == "devices/m/tick" }.count >= ticks + 4 })
        server.tables.withLock { $0.input[0] = 6 }
        #expect(await bus.waitFor { $0.filter { $0.topic == "devices/m/level" }.count >= 2 })
        running.cancel()
        try await running.value
        let levels = bus.payloads(on: "devices/m/level")
        #expect(levels.count == 2)
        #expect(levels[0].hasPrefix(#"{"value":0,"#) && levels[1].hasPrefix(#"{"value":6,"#))
        await server.stop()
    }

    @Test func writesWithTheRightFunctions() async throws {
        let server = try await ModbusTestServer.start()
        server.tables.withLock { $0.holding[20] = 0x00FF }
        let bus = RecordingBus()
        let adapter = try adapter(
            document(devices: [
                (
                    "m", server.port, "",
                    [
                        "{ name: setpoint, table: holding, address: 0, type: float32, order: CDAB, writable: true }",
                        "{ name: speed, table: holding, address: 2, type: int16, scale: 0.1, writable: true }",
                        "{ name: flag, table: holding, address: 20, type: bool, bit: 3, writable: true }",
                        "{ name: run, table: coil, address: 7, type: bool, writable: true }",
                    ]
                )
            ]),
            bus: bus)
        let running = Task { try await adapter.run() }
        #expect(await bus.waitFor { $0.contains { $0.topic == "devices/m/$status" } })
        for (topic, payload) in [
            ("setpoint", "12.5"), ("speed", #"{"value": -12.3}"#), ("flag", "false"), ("run", "true"),
        ] {
            _ = try await bus.publish(
                Message(
                    topic: "devices/m/\(topic)/set", payload: ByteBuffer(string: payload), principal: .adapter("test")))
        }
        #expect(await bus.waitFor { $0.filter { $0.topic.hasSuffix("/set/result") }.count == 4 })
        running.cancel()
        try await running.value

        #expect(last(bus, "devices/m/setpoint/set/result").hasPrefix(#"{"ok":true,"value":12.5,"#))
        #expect(last(bus, "devices/m/speed/set/result").hasPrefix(#"{"ok":true,"value":-12.3,"#))
        #expect(last(bus, "devices/m/flag/set/result").hasPrefix(#"{"ok":true,"value":false,"#))
        #expect(last(bus, "devices/m/run/set/result").hasPrefix(#"{"ok":true,"value":true,"#))
        let tables = server.tables.withLock { $0 }
        #expect(tables.holding[0] == 0x0000 && tables.holding[1] == 0x4148)
        #expect(tables.holding[2] == UInt16(bitPattern: -123))
        #expect(tables.holding[20] == 0x00F7)
        #expect(tables.coils[7])
        #expect(server.requests(16) == 1 && server.requests(6) == 2 && server.requests(5) == 1)
        await server.stop()
    }

    @Test func aSilentDeviceTimesOutWithoutDelayingAnother() async throws {
        let silent = try await ModbusTestServer.start()
        silent.tables.withLock { $0.answering = false }
        let healthy = try await ModbusTestServer.start()
        let bus = RecordingBus()
        let adapter = try adapter(
            document(devices: [
                ("dead", silent.port, "", ["{ name: x, table: holding, address: 0, type: uint16 }"]),
                ("live", healthy.port, "", ["{ name: y, table: holding, address: 0, type: uint16 }"]),
            ]),
            bus: bus)
        let running = Task { try await adapter.run() }
        #expect(await bus.waitFor { $0.contains { $0.topic == "devices/dead/$status" } })
        let before = healthy.requests(3)
        try await Task.sleep(for: .milliseconds(500))
        // 50 ms polls continue while the other device's 200 ms timeouts and reconnects go on.
        #expect(healthy.requests(3) - before >= 6)
        #expect(last(bus, "devices/dead/$status").hasPrefix(#"{"state":"offline","reason":"timeout","#))
        #expect(
            bus.payloads(on: "devices/dead/x").first?.hasPrefix(#"{"value":null,"quality":"bad","error":"timeout","#)
                == true)
        #expect(adapter.health == .degraded("1 of 2 devices offline: dead (timeout)"))

        silent.tables.withLock { $0.answering = true }
        #expect(await bus.waitFor { _ in self.last(bus, "devices/dead/$status").hasPrefix(#"{"state":"online""#) })
        #expect(await bus.waitFor { _ in self.last(bus, "devices/dead/x").hasPrefix(#"{"value":0,"quality":"good""#) })
        #expect(adapter.health == .healthy)
        running.cancel()
        try await running.value
        await silent.stop()
        await healthy.stop()
    }
}
