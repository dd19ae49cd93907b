import Testing
import WharfConfig

@Suite struct RemoteConfigConfigTests {
    @Test func defaultsAreTheSafeOnes() {
        let section = WharfConfiguration.default.remoteConfig
        #expect(section.enabled)
        #expect(section.topicPrefix == "wharf/{gateway}/config")
        #expect(section.prefix(gatewayID: "gw-7") == "wharf/gw-7/config")
        #expect(section.trustedKeysDirectory == "/etc/wharf/trusted-keys")
        #expect(section.allow == ["adapters", "uplink.forward", "uplink.subscribe", "log", "acl"])
        #expect(!section.allowUnsigned)
        #expect(section.confirmWithin == .seconds(300))
        #expect(section.confirmAfter == .seconds(60))
        #expect(section.maxProvisionalStarts == 3)
        #expect(section.startWindow == .seconds(900))
        #expect(section.maxDocumentBytes == 1 << 20)
    }

    @Test func readsEverySetting() throws {
        let yaml = """
            remote_config:
              enabled: false
              topic_prefix: fleet/{gateway}/cfg
              trusted_keys_dir: /srv/keys
              allow: [adapters, uplink, adapters]
              allow_unsigned: true
              confirm_within: 2m
              confirm_after: 0s
              max_provisional_starts: 5
              start_window: 1h
              max_document_bytes: 64KiB

            """
        let section = try #require(loadValid(yaml)).remoteConfig
        #expect(
            section
                == RemoteConfigConfig(
                    enabled: false, topicPrefix: "fleet/{gateway}/cfg", trustedKeysDirectory: "/srv/keys",
                    allow: ["adapters", "uplink"], allowUnsigned: true, confirmWithin: .seconds(120),
                    confirmAfter: .zero, maxProvisionalStarts: 5, startWindow: .seconds(3600),
                    maxDocumentBytes: 65_536))
    }

    @Test func anEmptyAllowListAllowsNothing() throws {
        #expect(try #require(loadValid("remote_config:\n  allow: []\n")).remoteConfig.allow == [])
    }

    @Test(arguments: ["wharf/+/config", "wharf/#", "$SYS/config", "wharf/{gateway}/", ""])
    func refusesTopicPrefixesThatAreNotOneTopic(prefix: String) {
        let found = issues(of: "remote_config:\n  topic_prefix: \"\(prefix)\"\n")
        #expect(found.map(\.path) == ["remote_config.topic_prefix"])
    }

    @Test func refusesUnknownSectionsInAllow() {
        let found = issues(of: "remote_config:\n  allow: [adapters, uplink.host, nonsense, broker.a.b, .x]\n")
        #expect(found.map(\.path) == ["remote_config.allow[2]", "remote_config.allow[3]", "remote_config.allow[4]"])
    }

    @Test func theHoldMustFitInTheCountdown() {
        let found = issues(of: "remote_config:\n  confirm_within: 30s\n  confirm_after: 30s\n")
        #expect(found.count == 1)
        #expect(found.first?.path == "remote_config.confirm_after")
        #expect(found.first?.message.contains("must be shorter than confirm_within") == true)
        #expect(issues(of: "remote_config:\n  confirm_within: 30s\n").map(\.path) == ["remote_config.confirm_within"])
    }

    @Test func refusesRelativeKeyDirectoriesAndUnknownKeys() {
        #expect(
            issues(of: "remote_config:\n  trusted_keys_dir: keys\n").map(\.path) == ["remote_config.trusted_keys_dir"])
        #expect(issues(of: "remote_config:\n  confirm_in: 5m\n").map(\.path) == ["remote_config.confirm_in"])
    }
}
