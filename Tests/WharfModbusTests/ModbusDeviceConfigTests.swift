import Testing
import WharfConfig
import WharfCore
import WharfModbus

/// Adapter- and device-level validation, and how issues are reported.
@Suite struct ModbusDeviceConfigTests {
    @Test func reportsUnknownKeysWithSuggestions() {
        let issues = modbusIssues(
            deviceYAML(
                points: ["{ name: v, table: holding, address: 0, type: float32, ordr: CDAB }"], device: "unitid: 3"))
        #expect(
            issues == [
                "wharf.yaml:7:9: adapters[0].devices[0].unitid: unknown key 'unitid'; did you mean 'unit_id'?",
                "wharf.yaml:9:67: adapters[0].devices[0].points[0].ordr: unknown key 'ordr'; did you mean 'order'?",
            ])
    }

    @Test func reportsUnknownParity() {
        let yaml = """
            adapters:
              - name: plant
                type: modbus
                devices:
                  - name: m
                    rtu: { device: /dev/ttyS0, parity: evn }
                    points: [{ name: v, table: input, address: 0, type: int16 }]

            """
        let issues = modbusIssues(yaml)
        #expect(issues.count == 1)
        #expect(issues[0].contains("devices[0].rtu.parity") && issues[0].contains("did you mean 'even'?"))
    }

    @Test func reportsDuplicateNames() {
        let yaml = """
            adapters:
              - name: plant
                type: modbus
                devices:
                  - name: m
                    tcp: { host: 127.0.0.1 }
                    points:
                      - { name: v, table: input, address: 0, type: int16 }
                      - { name: v, table: input, address: 1, type: int16 }
                  - name: m
                    tcp: { host: 127.0.0.2 }
                    points: [{ name: v, table: input, address: 0, type: int16 }]

            """
        let issues = modbusIssues(yaml)
        #expect(issues.count == 2)
        #expect(
            issues[0].contains("devices[0].points[1].name: point name 'v' is already used in this device at line 8"))
        #expect(issues[1].contains("devices[1].name: device name 'm' is already used at line 5"))
    }

    @Test func requiresExactlyOneTransport() {
        let yaml = """
            adapters:
              - name: plant
                type: modbus
                devices:
                  - name: both
                    tcp: { host: 127.0.0.1 }
                    rtu: { device: /dev/ttyS0 }
                    points: [{ name: v, table: input, address: 0, type: int16 }]
                  - name: neither
                    points: [{ name: v, table: input, address: 0, type: int16 }]

            """
        let issues = modbusIssues(yaml)
        #expect(issues.count == 2)
        #expect(issues[0].contains("devices[0].rtu: a device has either 'tcp' or 'rtu', not both"))
        #expect(issues[1].contains("devices[1].tcp: missing required key 'tcp'"))
    }

    @Test(arguments: [
        ("tcp: { host: 127.0.0.1 }", 248, false),
        ("tcp: { host: 127.0.0.1 }", 255, true),
        ("tcp: { host: 127.0.0.1 }", -1, false),
        ("rtu: { device: /dev/ttyS0 }", 255, false),
        ("rtu: { device: /dev/ttyS0 }", 247, true),
        ("rtu: { device: /dev/ttyS0 }", 0, true),
    ])
    func checksUnitIDs(transport: String, unit: Int, valid: Bool) {
        let yaml = """
            adapters:
              - name: plant
                type: modbus
                devices:
                  - name: m
                    \(transport)
                    unit_id: \(unit)
                    points: [{ name: v, table: input, address: 0, type: int16 }]

            """
        let issues = modbusIssues(yaml)
        #expect(issues.isEmpty == valid)
        if !valid { #expect(issues.first?.contains("devices[0].unit_id: expected a unit id") == true) }
    }

    @Test func checksTopicsNumbersAndNames() {
        let yaml = """
            adapters:
              - name: plant
                type: modbus
                topic: "devices/{device}/{pont}"
                status_topic: "devices/+/{device}"
                qos: 2
                devices:
                  - name: Meter
                    tcp: { host: 127.0.0.1 }
                    points:
                      - { name: v, table: input, address: 0, type: int16, scale: 0, deadband: -1, min: 5, max: 1 }
                      - { name: s, table: input, address: 1, type: string, length: 1, scale: 2 }

            """
        let issues = modbusIssues(yaml)
        #expect(issues.count == 8)
        #expect(issues[0].contains("adapters[0].topic: unknown placeholder"))
        #expect(issues[1].contains("adapters[0].status_topic: expected an MQTT topic name without wildcards"))
        #expect(issues[2].contains("adapters[0].qos: expected an integer from 0 to 1, got 2"))
        #expect(issues[3].contains("devices[0].name: expected a name made of lowercase letters"))
        #expect(issues[4].contains("points[0].scale: scale must not be 0"))
        #expect(issues[5].contains("points[0].deadband: deadband must not be negative"))
        #expect(issues[6].contains("points[0].max: max must not be smaller than min"))
        #expect(issues[7].contains("points[1].scale: 'scale' applies to numeric points only, not string"))
    }

    @Test func reportsEveryIssueAtOnceWithLines() {
        let issues = modbusIssues(
            deviceYAML(points: [
                "{ name: a, table: holding, address: 70000, type: uint16 }",
                "{ name: b, table: holding, address: 0, type: int16, order: ABCD }",
            ]))
        #expect(
            issues == [
                "wharf.yaml:8:49: adapters[0].devices[0].points[0].address: expected an integer from 0 to 65535, got 70000",
                "wharf.yaml:9:72: adapters[0].devices[0].points[1].order: "
                    + "'order' applies to 32-bit, 64-bit and string points, not int16",
            ])
    }

    @Test func requiresDevicesAndPoints() {
        let missing = modbusIssues("adapters:\n  - name: plant\n    type: modbus\n")
        #expect(
            missing == [
                "wharf.yaml:2:5: adapters[0].devices: missing required key 'devices' (the Modbus devices this adapter polls)"
            ])
        let empty = modbusIssues("adapters:\n  - name: plant\n    type: modbus\n    devices: []\n")
        #expect(empty == ["wharf.yaml:4:14: adapters[0].devices: expected at least one device"])
        let noPoints = modbusIssues(
            "adapters:\n  - name: plant\n    type: modbus\n    devices:\n      - { name: m, tcp: { host: h }, points: [] }\n"
        )
        #expect(noPoints.count == 1)
        #expect(noPoints.first?.contains("devices[0].points: expected at least one point") == true)
    }

    @Test func readsAConfigurationMadeInCode() throws {
        let settings: ConfigValue = [
            "devices": [
                [
                    "name": "m", "tcp": ["host": "127.0.0.1"],
                    "points": [["name": "v", "table": "input", "address": 3, "type": "int32", "order": "CDAB"]],
                ]
            ]
        ]
        let config = try ModbusConfig(adapter: AdapterConfig(name: "plant", type: "modbus", settings: settings))
        #expect(config.devices[0].transport == .tcp(host: "127.0.0.1", port: 502))
        #expect(config.devices[0].points[0].order == .cdab)
        let bad: ConfigValue = ["devices": [["name": "m", "tcp": ["host": "h"], "points": [["name": "v"]]]]]
        #expect(throws: ConfigError.self) {
            try ModbusConfig(adapter: AdapterConfig(name: "p", type: "modbus", settings: bad))
        }
    }
}
