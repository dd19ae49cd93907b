import Testing
import WharfConfig

/// `uplink.endpoints` and `uplink.failback`: the forms of an endpoint, and the mistakes an installer makes.
@Suite struct UplinkEndpointsConfigTests {
    private func load(_ uplink: String) -> Result<WharfConfiguration, ConfigError> {
        ConfigLoader.load(yaml: "uplink:\n  enabled: true\n" + uplink, file: "wharf.yaml")
    }

    private func issues(_ uplink: String) -> [ConfigIssue] {
        guard case .failure(let error) = load(uplink) else { return [] }
        return error.issues
    }

    @Test func textsAndMappingsAreReadInOrderWithDefaultPorts() throws {
        let yaml = """
              endpoints:
                - node1.example.net:8883
                - "[2001:db8::7]:9883"
                - node3.example.net
                - {host: 10.0.0.4, port: 18883}
                - host: "[::1]"
              failback: 2m
            """
        let uplink = try load(yaml).get().uplink
        #expect(
            uplink.endpoints.map(\.host) == [
                "node1.example.net", "2001:db8::7", "node3.example.net", "10.0.0.4", "::1",
            ])
        #expect(uplink.effectiveEndpoints.map(\.port) == [8883, 9883, 8883, 18883, 8883])
        #expect(uplink.effectiveEndpoints.map { $0.written(port: 0) }.last == "[::1]:8883")
        #expect(uplink.failback == .seconds(120))
    }

    @Test func theSingleHostIsAListOfOneAndPlainTCPDefaultsTo1883() throws {
        let uplink = try load("  host: cloud.example.net\n  tls:\n    enabled: false\n").get().uplink
        #expect(uplink.effectiveEndpoints == [UplinkEndpointConfig(host: "cloud.example.net", port: 1883)])
        #expect(uplink.failback == UplinkConfig.defaultFailback)
    }

    @Test(arguments: ["never", "0", "Never"])
    func failbackCanBeTurnedOff(value: String) throws {
        let uplink = try load("  host: h\n  failback: \(value)\n").get().uplink
        #expect(uplink.failback == nil)
    }

    @Test func hostAndEndpointsTogetherAreAnErrorNamingBoth() {
        let found = issues("  host: a\n  endpoints: [b:1883]\n")
        #expect(found.map(\.path) == ["uplink.endpoints"])
        #expect(found.first?.message.contains("'uplink.endpoints'") == true)
        #expect(found.first?.message.contains("'uplink.host'") == true)
        #expect(found.first?.line == 4)
    }

    @Test func portAndEndpointsTogetherAreAnError() {
        let found = issues("  port: 1883\n  endpoints: [b:1883]\n")
        #expect(found.map(\.path) == ["uplink.endpoints"])
        #expect(found.first?.message.contains("'uplink.port'") == true)
    }

    @Test func everyBadEndpointIsReportedAtItsIndex() {
        let yaml = """
              endpoints:
                - "good:1883"
                - "::1:8883"
                - "h:0"
                - "mqtts://cloud:8883"
                - {port: 8883}
                - "good:1883"
                - [a, b]
              failback: soon
            """
        let found = issues(yaml)
        let paths = found.map(\.path)
        #expect(paths.contains("uplink.endpoints[1]"))
        #expect(paths.contains("uplink.endpoints[2]"))
        #expect(paths.contains("uplink.endpoints[3]"))
        #expect(paths.contains("uplink.endpoints[4].host"))
        #expect(paths.contains("uplink.endpoints[5]"))
        #expect(paths.contains("uplink.endpoints[6]"))
        #expect(paths.contains("uplink.failback"))
        #expect(!paths.contains("uplink.endpoints[0]"))
        #expect(found.first { $0.path == "uplink.endpoints[1]" }?.message.contains("[::1]:8883") == true)
        #expect(found.first { $0.path == "uplink.endpoints[5]" }?.message.contains("already listed") == true)
        #expect(found.allSatisfy { $0.line != nil })
    }

    @Test func anEmptyListIsAnError() {
        #expect(issues("  endpoints: []\n").map(\.path) == ["uplink.endpoints"])
    }

    @Test func anEnabledUplinkNeedsHostOrEndpoints() {
        let found = issues("  mqtt_version: \"5\"\n")
        #expect(found.map(\.path) == ["uplink.host"])
        #expect(found.first?.message.contains("endpoints") == true)
    }

    @Test(arguments: [
        ("h", "h", 0), ("h:1", "h", 1), ("[::1]", "::1", 0), ("[fe80::1]:65535", "fe80::1", 65535),
        (" 10.0.0.1:1883 ", "10.0.0.1", 1883),
    ])
    func endpointTextsParse(text: String, host: String, port: Int) throws {
        #expect(try UplinkEndpointConfig.parse(text).get() == UplinkEndpointConfig(host: host, port: port))
    }

    @Test(arguments: ["", ":1883", "h:", "h:65536", "h:x", "[::1", "[::1]8883", "a b:1", "a/b", "::1", "tcp://h:1"])
    func malformedEndpointTextsAreRefused(text: String) {
        #expect(throws: EndpointSyntaxError.self) { try UplinkEndpointConfig.parse(text).get() }
    }
}
