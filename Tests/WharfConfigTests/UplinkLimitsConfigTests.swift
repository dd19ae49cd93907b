import Testing
import WharfConfig

/// `uplink.limits` and the same keys in an endpoint's mapping: defaults for every endpoint, overrides
/// for one, 0 to lift a limit, and the mistakes reported with file, line and key.
@Suite struct UplinkLimitsConfigTests {
    private func load(_ uplink: String) -> Result<WharfConfiguration, ConfigError> {
        ConfigLoader.load(yaml: "uplink:\n  enabled: true\n" + uplink, file: "wharf.yaml")
    }

    private func issues(_ uplink: String) -> [ConfigIssue] {
        guard case .failure(let error) = load(uplink) else {
            Issue.record("expected the document to be rejected")
            return []
        }
        return error.issues
    }

    @Test func withoutTheKeysThereIsNoLimit() throws {
        let uplink = try load("  endpoints: [a:1883, {host: b, port: 1884}]\n").get().uplink
        #expect(uplink.limits.isEmpty)
        #expect(uplink.endpoints.allSatisfy { $0.limits.isEmpty })
        #expect(uplink.effectiveLimits(ofEndpointAt: 0) == EffectiveUplinkLimits())
        #expect(uplink.effectiveLimits(ofEndpointAt: 1) == EffectiveUplinkLimits())
        #expect(UplinkConfig().limits == UplinkLimitsConfig())
    }

    @Test func theSectionAppliesToEveryEndpointAndAnEndpointsOwnKeysWin() throws {
        let yaml = """
              limits:
                max_payload_bytes: 128KiB
                max_topic_levels: 7
                max_inflight: 20
                max_publish_rate: 100
                max_qos: 1
              endpoints:
                - cloud-a:8883
                - host: cloud-b
                  port: 8883
                  max_payload_bytes: 0
                  max_publish_rate: 0.5
                  max_qos: 0
            """
        let uplink = try load(yaml).get().uplink
        #expect(
            uplink.limits
                == UplinkLimitsConfig(
                    maxPayloadBytes: 131_072, maxTopicLevels: 7, maxInflight: 20, maxPublishRate: 100, maxQoS: 1))
        #expect(uplink.endpoints[1].limits == UplinkLimitsConfig(maxPayloadBytes: 0, maxPublishRate: 0.5, maxQoS: 0))
        #expect(
            uplink.effectiveLimits(ofEndpointAt: 0)
                == EffectiveUplinkLimits(
                    maxPayloadBytes: EffectiveUplinkLimit(131_072, keyPath: "uplink.limits.max_payload_bytes"),
                    maxTopicLevels: EffectiveUplinkLimit(7, keyPath: "uplink.limits.max_topic_levels"),
                    maxInflight: EffectiveUplinkLimit(20, keyPath: "uplink.limits.max_inflight"),
                    maxPublishRate: EffectiveUplinkLimit(100, keyPath: "uplink.limits.max_publish_rate"),
                    maxQoS: EffectiveUplinkLimit(1, keyPath: "uplink.limits.max_qos")))
        // 0 lifts the section's payload limit for cloud-b; the rest is its own or the section's.
        #expect(
            uplink.effectiveLimits(ofEndpointAt: 1)
                == EffectiveUplinkLimits(
                    maxTopicLevels: EffectiveUplinkLimit(7, keyPath: "uplink.limits.max_topic_levels"),
                    maxInflight: EffectiveUplinkLimit(20, keyPath: "uplink.limits.max_inflight"),
                    maxPublishRate: EffectiveUplinkLimit(0.5, keyPath: "uplink.endpoints[1].max_publish_rate"),
                    maxQoS: EffectiveUplinkLimit(0, keyPath: "uplink.endpoints[1].max_qos")))
        #expect(uplink.effectiveEndpoints[1].limits == uplink.endpoints[1].limits)
    }

    @Test func theSingleHostTakesTheSectionsLimitsAndMaxQoS2IsAValue() throws {
        let uplink = try load("  host: cloud\n  limits:\n    max_topic_levels: 0\n").get().uplink
        #expect(uplink.limits.isEmpty)
        #expect(uplink.effectiveLimits(ofEndpointAt: 0) == EffectiveUplinkLimits())
        // 2 is not "no limit": over MQTT 3.1.1 it says the cloud handles QoS 2.
        let exactlyOnce = try load("  host: cloud\n  limits:\n    max_qos: 2\n").get().uplink
        #expect(
            exactlyOnce.effectiveLimits(ofEndpointAt: 0).maxQoS
                == EffectiveUplinkLimit(2, keyPath: "uplink.limits.max_qos"))
        let limited = try load("  host: cloud\n  limits:\n    max_payload_bytes: 1000\n").get().uplink
        #expect(
            limited.effectiveLimits(ofEndpointAt: 0).maxPayloadBytes
                == EffectiveUplinkLimit(1000, keyPath: "uplink.limits.max_payload_bytes"))
    }

    @Test func wrongValuesAreReportedWithFileLineAndKey() {
        let found = issues(
            """
              host: cloud
              limits:
                max_payload_bytes: lots
                max_topic_levels: -1
                max_inflight: 70000
                max_publish_rate: "100"
                max_qos: 3
            """)
        #expect(
            found.map(\.path) == [
                "uplink.limits.max_payload_bytes", "uplink.limits.max_topic_levels", "uplink.limits.max_inflight",
                "uplink.limits.max_publish_rate", "uplink.limits.max_qos",
            ])
        #expect(found.map(\.line) == [5, 6, 7, 8, 9])
        #expect(found.allSatisfy { $0.file == "wharf.yaml" })
        #expect(found[0].message.contains("expected a size"))
        #expect(found[3].message.contains("remove the quotes"))
        #expect(found[4].message.contains("from 0 to 2"))
        #expect(found[4].description.hasPrefix("wharf.yaml:9:"))
    }

    @Test func aPayloadLimitIsAtMostWhatMQTTCarries() {
        let found = issues("  host: cloud\n  limits:\n    max_payload_bytes: 1GiB\n")
        #expect(found.map(\.path) == ["uplink.limits.max_payload_bytes"])
        #expect(found.first?.message.contains("0 (no limit) or a size from") == true)
    }

    @Test(arguments: ["-1", "0.0001", "fast", "1e9", "[1]"])
    func aRateMustBeAPositiveNumberOfMessagesPerSecond(value: String) {
        let found = issues("  host: cloud\n  limits:\n    max_publish_rate: \(value)\n")
        #expect(found.map(\.path) == ["uplink.limits.max_publish_rate"])
        #expect(found.first?.message.contains("messages per second") == true)
    }

    @Test func wrongValuesInAnEndpointAreReportedAtTheEndpoint() {
        let found = issues(
            """
              endpoints:
                - host: cloud-a
                  max_qos: 5
                - {host: cloud-b, max_payload_bytes: big}
            """)
        #expect(found.map(\.path) == ["uplink.endpoints[0].max_qos", "uplink.endpoints[1].max_payload_bytes"])
        #expect(found.map(\.line) == [5, 6])
    }

    @Test func misspelledKeysAreReportedWithAHint() {
        let found = issues(
            """
              host: cloud
              limits:
                max_payload: 1000
            """)
        #expect(found.map(\.path) == ["uplink.limits.max_payload"])
        #expect(found.first?.message.contains("max_payload_bytes") == true)
        let inEndpoint = issues("  endpoints:\n    - {host: a, max_topic_level: 3}\n")
        #expect(inEndpoint.first?.message.contains("max_topic_levels") == true)
    }

    @Test func limitsAreNotAnEndpointsIdentity() {
        let found = issues("  endpoints:\n    - a:1883\n    - {host: a, port: 1883, max_qos: 0}\n")
        #expect(found.map(\.path) == ["uplink.endpoints[1]"])
        #expect(found.first?.message.contains("already listed") == true)
    }
}
