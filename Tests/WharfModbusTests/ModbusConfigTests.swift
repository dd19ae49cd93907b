import Testing
import WharfConfig
import WharfCore
import WharfModbus

/// Point-level schema and validation.
@Suite struct ModbusConfigTests {
    @Test func readsEveryKey() throws {
        let yaml = """
            adapters:
              - name: plant
                type: modbus
                topic: "site/{adapter}/{device}/{point}"
                command_topic: "site/{device}/{point}/write"
                result_topic: "site/{device}/{point}/write/result"
                status_topic: "site/{device}/status"
                qos: 0
                retain: true
                backoff: { base: 500ms, cap: 10s, stable_after: 5s }
                devices:
                  - name: meter-1
                    tcp: { host: 10.0.0.5, port: 1502 }
                    unit_id: 255
                    response_timeout: 250ms
                    byte_timeout: 100ms
                    poll_interval: 2s
                    max_gap: 4
                    points:
                      - name: voltage
                        table: holding
                        address: 10
                        type: float32
                        order: cdab
                        scale: 0.1
                        offset: -5
                        unit: V
                        publish: on_change
                        deadband: 0.5
                        poll_interval: 5s
                        writable: true
                        min: 0
                        max: 250
                      - { name: label, table: input, address: 0, type: string, length: 4, order: BADC }
                      - { name: alarm, table: holding, address: 20, type: bool, bit: 3 }
                      - { name: total, table: input, address: 30, type: uint64, order: GHEFCDAB }
                  - name: rtu-a
                    rtu: { device: /dev/ttyUSB0, baud: 19200, parity: even, data_bits: 7, stop_bits: 2, rs485: true }
                    unit_id: 7
                    points:
                      - { name: run, table: coil, address: 0, type: bool, writable: true }

            """
        let config = try modbusConfig(yaml).get()
        #expect(config.topic == "site/{adapter}/{device}/{point}")
        #expect(config.commandTopic == "site/{device}/{point}/write")
        #expect(config.resultTopic == "site/{device}/{point}/write/result")
        #expect(config.statusTopic == "site/{device}/status")
        #expect(config.qos == .atMostOnce)
        #expect(config.retain)
        #expect(config.backoff == BackoffPolicy(base: .milliseconds(500), cap: .seconds(10), stableAfter: .seconds(5)))
        #expect(config.devices.count == 2)
        let meter = config.devices[0]
        #expect(meter.transport == .tcp(host: "10.0.0.5", port: 1502))
        #expect(meter.unitID == 255)
        #expect(meter.responseTimeout == .milliseconds(250))
        #expect(meter.byteTimeout == .milliseconds(100))
        #expect(meter.pollInterval == .seconds(2))
        #expect(meter.maxGap == 4)
        let voltage = meter.points[0]
        #expect(voltage.table == .holding && voltage.address == 10 && voltage.type == .float32)
        #expect(voltage.order == .cdab)
        #expect(voltage.scale == 0.1 && voltage.offset == -5)
        #expect(voltage.unit == "V")
        #expect(voltage.publish == .onChange && voltage.deadband == 0.5)
        #expect(voltage.pollInterval == .seconds(5))
        #expect(voltage.writable && voltage.min == 0 && voltage.max == 250)
        #expect(meter.points[1].length == 4 && meter.points[1].order == .badc)
        #expect(meter.points[2].bit == 3)
        #expect(meter.points[3].order == .cdab)
        var line = ModbusSerialLine(device: "/dev/ttyUSB0")
        line.baud = 19200
        line.parity = .even
        line.dataBits = 7
        line.stopBits = 2
        line.rs485 = true
        #expect(config.devices[1].transport == .rtu(line))
        #expect(config.devices[1].unitID == 7)
    }

    @Test func appliesDefaults() throws {
        let config = try modbusConfig(deviceYAML(points: ["{ name: v, table: holding, address: 0, type: uint16 }"]))
            .get()
        #expect(config.topic == "devices/{device}/{point}")
        #expect(config.commandTopic == "devices/{device}/{point}/set")
        #expect(config.resultTopic == "devices/{device}/{point}/set/result")
        #expect(config.statusTopic == "devices/{device}/$status")
        #expect(config.qos == .atLeastOnce)
        #expect(!config.retain)
        #expect(config.backoff == BackoffPolicy(base: .seconds(1), cap: .seconds(60), stableAfter: .seconds(30)))
        let device = config.devices[0]
        #expect(device.unitID == 1)
        #expect(device.responseTimeout == .seconds(1))
        #expect(device.byteTimeout == .milliseconds(500))
        #expect(device.pollInterval == .seconds(1))
        #expect(device.maxGap == 8)
        let point = device.points[0]
        #expect(point.order == .abcd && point.scale == 1 && point.offset == 0 && point.unit == nil)
        #expect(point.publish == .everyPoll && point.deadband == 0 && point.pollInterval == nil)
        #expect(!point.writable && point.min == nil && point.max == nil)
    }

    @Test func reportsMissingRequiredKeys() {
        let issues = modbusIssues(deviceYAML(points: ["{ name: v }"]))
        #expect(issues.count == 3)
        #expect(issues.allSatisfy { $0.contains("adapters[0].devices[0].points[0].") })
        #expect(issues[0].contains("points[0].table: missing required key 'table'"))
        #expect(issues[1].contains("points[0].address: missing required key 'address'"))
        #expect(issues[2].contains("points[0].type: missing required key 'type'"))
    }

    @Test func reportsUnknownChoicesWithSuggestions() {
        let issues = modbusIssues(
            deviceYAML(points: [
                "{ name: a, table: holdng, address: 0, type: uint16 }",
                "{ name: b, table: input, address: 0, type: flaot32 }",
                "{ name: c, table: input, address: 4, type: float32, order: CDBA }",
            ]))
        #expect(issues.count == 3)
        #expect(issues[0].contains("points[0].table: expected one of") && issues[0].contains("did you mean 'holding'?"))
        #expect(issues[1].contains("points[1].type: expected one of") && issues[1].contains("did you mean 'float32'?"))
        #expect(issues[2].contains("points[2].order: expected one of ABCD, BADC, CDAB, DCBA"))
    }

    @Test func reportsOrdersThatDoNotFitTheType() {
        let issues = modbusIssues(
            deviceYAML(points: [
                "{ name: a, table: holding, address: 0, type: int16, order: BADC }",
                "{ name: b, table: holding, address: 1, type: int32, order: HGFEDCBA }",
                "{ name: c, table: holding, address: 3, type: string, length: 2, order: CDAB }",
                "{ name: d, table: holding, address: 5, type: float64, order: DCBA }",
            ]))
        #expect(issues.count == 3)
        #expect(issues[0].contains("points[0].order: 'order' applies to 32-bit, 64-bit and string points, not int16"))
        #expect(issues[1].contains("points[1].order: order \"HGFEDCBA\" does not fit a int32 point"))
        #expect(issues[2].contains("points[2].order: order \"CDAB\" does not fit a string point"))
    }

    @Test func checksBits() {
        let issues = modbusIssues(
            deviceYAML(points: [
                "{ name: a, table: holding, address: 0, type: bool, bit: 16 }",
                "{ name: b, table: holding, address: 1, type: uint16, bit: 2 }",
                "{ name: c, table: coil, address: 0, type: bool, bit: 2 }",
                "{ name: d, table: input, address: 2, type: bool }",
            ]))
        #expect(issues.count == 4)
        #expect(issues[0].contains("points[0].bit: expected an integer from 0 to 15, got 16"))
        #expect(issues[1].contains("points[1].bit: 'bit' applies only to bool points on holding or input registers"))
        #expect(issues[2].contains("points[2].bit: 'bit' applies only to bool points"))
        #expect(issues[3].contains("points[3].bit: missing required key 'bit'"))
    }

    @Test func requiresLengthForStrings() {
        let issues = modbusIssues(deviceYAML(points: ["{ name: s, table: holding, address: 0, type: string }"]))
        #expect(issues.count == 1)
        #expect(issues[0].contains("points[0].length: missing required key 'length'"))
    }

    @Test func rejectsPointsBeyondTheLastAddress() {
        let issues = modbusIssues(
            deviceYAML(points: [
                "{ name: a, table: holding, address: 65534, type: uint32 }",
                "{ name: b, table: holding, address: 65533, type: uint16 }",
                "{ name: c, table: input, address: 65533, type: float64 }",
            ]))
        #expect(issues.count == 1)
        #expect(issues[0].contains("points[2].address: the point spans addresses 65533...65536"))
    }

    @Test func rejectsBitTypesInRegisterTablesAndTheReverse() {
        let issues = modbusIssues(deviceYAML(points: ["{ name: a, table: coil, address: 0, type: uint16 }"]))
        #expect(issues.count == 1)
        #expect(issues[0].contains("points[0].type: coil points hold single bits: their type must be bool"))
    }

    @Test func reportsOverlappingPoints() {
        let issues = modbusIssues(
            deviceYAML(points: [
                "{ name: a, table: holding, address: 0, type: float32 }",
                "{ name: b, table: holding, address: 1, type: uint16 }",
                "{ name: c, table: input, address: 1, type: uint16 }",
                "{ name: d, table: holding, address: 10, type: bool, bit: 1 }",
                "{ name: e, table: holding, address: 10, type: bool, bit: 2 }",
                "{ name: f, table: holding, address: 10, type: bool, bit: 2 }",
                "{ name: g, table: coil, address: 0, type: bool }",
                "{ name: h, table: discrete, address: 0, type: bool }",
            ]))
        #expect(issues.count == 2)
        #expect(issues[0].contains("points[1].address: point 'b' overlaps point 'a' in the holding table"))
        #expect(issues[1].contains("points[5].address: point 'f' overlaps point 'e'"))
    }

    @Test func rejectsWritableReadOnlyTables() {
        let issues = modbusIssues(
            deviceYAML(points: [
                "{ name: a, table: input, address: 0, type: uint16, writable: true }",
                "{ name: b, table: discrete, address: 0, type: bool, writable: true }",
                "{ name: c, table: holding, address: 0, type: uint16, writable: true }",
            ]))
        #expect(issues.count == 2)
        #expect(issues[0].contains("points[0].writable: the input table is read-only"))
        #expect(issues[1].contains("points[1].writable: the discrete table is read-only"))
    }

    @Test func rejectsWildcardsInPointNames() {
        let issues = modbusIssues(deviceYAML(points: ["{ name: \"a+b\", table: holding, address: 0, type: uint16 }"]))
        #expect(issues.count == 1)
        #expect(issues[0].contains("points[0].name: expected a point name without '+', '#' or NUL"))
    }
}
