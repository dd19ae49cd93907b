import Testing
import WharfConfig

/// How an adapter decodes its own settings from `AdapterConfig.source`.
@Suite struct ConfigReaderTests {
    static let yaml = """
        adapters:
          - name: line-1
            type: modbus
            host: 10.0.0.5
          - name: line-2
            type: modbus
            host: 10.0.0.6
            poll: 2
            points:
              - {name: a, address: 1}
              - {name: b, address: 2}
              - {name: c, address: 3, scael: 2}
              - {name: d, address: 70000}

        """

    struct Point {
        var name: String
        var address: Int
    }

    /// A stand-in for an adapter's settings decoder.
    static func decode(_ adapter: AdapterConfig) -> [ConfigIssue] {
        let reader = ConfigReader(adapter.source)
        _ = reader.requiredString("host", "the PLC's IP address")
        _ = reader.duration("poll", default: .seconds(1), in: .milliseconds(10)...)
        _ = reader.requiredString("port", "the PLC's TCP port")
        for point in reader.sectionList("points") ?? [] {
            _ = point.requiredString("name", "the point's name")
            _ = point.int("address", default: 0, in: 0...65535)
            _ = point.size("scale", default: 1, in: 1...100)
            point.finish()
        }
        reader.finish()
        return reader.issues
    }

    @Test func adapterIssuesNameTheirPathAndLine() throws {
        let configuration = try #require(loadValid(Self.yaml))
        #expect(
            Self.decode(configuration.adapters[0]).map(\.description) == [
                "wharf.yaml:2:5: adapters[0].port: missing required key 'port' (the PLC's TCP port)"
            ])
        #expect(
            Self.decode(configuration.adapters[1]).map(\.description) == [
                "wharf.yaml:5:5: adapters[1].port: missing required key 'port' (the PLC's TCP port)",
                "wharf.yaml:12:31: adapters[1].points[2].scael: unknown key 'scael'; did you mean 'scale'?",
                "wharf.yaml:13:28: adapters[1].points[3].address: expected an integer from 0 to 65535, got 70000",
            ]
        )
    }

    @Test func readersWorkOnTreesBuiltInCode() {
        let adapter = AdapterConfig(name: "x", type: "modbus", settings: ["host": 5, "points": "none"])
        let reader = ConfigReader(adapter.source)
        #expect(reader.string("host", default: "") == "5")
        #expect(reader.sectionList("points") == nil)
        #expect(
            reader.issues.map(\.description) == [": points: expected a list (lines starting with '- '), got \"none\""])
    }

    @Test func freeFormMappingsAreReadThroughMembers() throws {
        let node = try ConfigLoader.parse(yaml: "labels:\n  site: north\n  floor: 2\n", file: "f").get()
        let reader = ConfigReader(node)
        let labels = reader.section("labels")
        #expect(labels.members.map(\.key) == ["site", "floor"])
        #expect(labels.members.compactMap { labels.string($0.value) } == ["north", "2"])
        reader.finish()
        #expect(reader.issues.isEmpty)
    }

    @Test func valueHelpersAndLiterals() {
        let value: ConfigValue = ["a": [1, 2.5, "x", true, nil]]
        #expect(value["a"]?[0]?.intValue == 1)
        #expect(value["a"]?[1]?.doubleValue == 2.5)
        #expect(value["a"]?[0]?.doubleValue == 1)
        #expect(value["a"]?[2]?.stringValue == "x")
        #expect(value["a"]?[3]?.boolValue == true)
        #expect(value["a"]?[4]?.isNull == true)
        #expect(value["a"]?[5] == nil)
        #expect(value["b"] == nil)
        #expect(ConfigNode(value: value).value == value)
        #expect(ConfigNode(value: value)["a"]?[1]?.path == "a[1]")
        #expect(ConfigPath.key("odd key", in: "a") == "a[\"odd key\"]")
    }
}
