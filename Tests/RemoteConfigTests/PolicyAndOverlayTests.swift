import Testing
import WharfConfig

@testable import RemoteConfig

@Suite struct PolicyAndOverlayTests {
    private func config(_ text: String) throws -> JSONValue { try JSONParser.parse(text).get() }

    @Test func defaultPolicyAllowsTheOperatorSections() throws {
        let sent = try config(#"{"adapters": [], "log": {}, "acl": "", "uplink": {"forward": [], "subscribe": []}}"#)
        #expect(SectionPolicy.problems(config: sent, allow: SectionPolicy.defaultAllow) == [])
    }

    @Test func defaultPolicyNamesEveryForbiddenSection() throws {
        let sent = try config(
            #"{"gateway": {"id": "x"}, "uplink": {"host": "evil", "password": "p", "forward": []}, "broker": {"listeners": []}, "remote_config": {}}"#
        )
        let problems = SectionPolicy.problems(config: sent, allow: SectionPolicy.defaultAllow)
        #expect(
            problems.map(\.path) == [
                "config.gateway", "config.uplink.host", "config.uplink.password", "config.broker",
                "config.remote_config",
            ])
        #expect(problems.allSatisfy { $0.kind == .forbiddenSection })
    }

    @Test func aWiderLocalListAllowsMore() throws {
        let sent = try config(#"{"uplink": {"host": "new"}, "broker": {}}"#)
        #expect(SectionPolicy.problems(config: sent, allow: ["uplink", "broker"]) == [])
        #expect(SectionPolicy.problems(config: sent, allow: []).count == 2)
    }

    @Test func readsTheLocalAllowList() throws {
        let local = try ConfigLoader.parse(
            yaml: "remote_config:\n  allow: [adapters, uplink.host, nonsense, broker.a.b]\n  allow_unsigned: true\n",
            file: "wharf.yaml"
        ).get()
        let (settings, issues) = RemoteConfigSettings.read(from: local)
        #expect(settings.allow == ["adapters", "uplink.host"])
        #expect(settings.allowUnsigned)
        #expect(issues.map(\.path) == ["remote_config.allow[2]", "remote_config.allow[3]"])
        #expect(RemoteConfigSettings.read(from: ConfigNode(.null)).settings == RemoteConfigSettings())
    }

    @Test func sectionsSentReplaceTheLocalOnesWhole() throws {
        let local = try ConfigLoader.parse(
            yaml: """
                gateway:
                  id: gw-01
                log:
                  level: warning
                  components: {uplink: debug}
                uplink:
                  enabled: true
                  host: cloud.example.com
                  forward:
                    - filter: "old/#"
                """,
            file: "/etc/wharf/wharf.yaml"
        ).get()
        let sent = try config(#"{"log": {"level": "debug"}, "uplink": {"forward": [{"filter": "new/#"}]}}"#)
        let effective = try ConfigOverlay.validate(
            local: local, config: sent, allow: SectionPolicy.defaultAllow, file: "remote:3"
        )
        .get()
        #expect(effective.configuration.log.level == .debug)
        #expect(effective.configuration.log.components.isEmpty)
        #expect(effective.configuration.uplink.host == "cloud.example.com")
        #expect(effective.configuration.uplink.forward.map(\.filter) == ["new/#"])
        #expect(effective.configuration.gateway.id == "gw-01")
        #expect(effective.replaced == ["log", "uplink.forward"])
    }

    @Test func reportsProblemsWithTheFilesKeyPaths() throws {
        let local = try ConfigLoader.parse(yaml: "log:\n  level: info\n", file: "/etc/wharf/wharf.yaml").get()
        let sent = try config(
            #"{"log": {"level": "loud"}, "adapters": [{"name": "ok", "type": "modbus"}, {"name": "Bad!", "type": "modbus"}], "acl": 5}"#
        )
        guard
            case .failure(let rejection) = ConfigOverlay.validate(
                local: local, config: sent, allow: SectionPolicy.defaultAllow, file: "remote:4")
        else {
            Issue.record("accepted")
            return
        }
        let issues = rejection.problems.compactMap(\.issue)
        #expect(rejection.kinds.allSatisfy { $0 == .invalidConfig })
        #expect(Set(issues.map(\.path)).isSuperset(of: ["log.level", "adapters[1].name", "acl"]))
        #expect(issues.allSatisfy { $0.file == "remote:4" })
        // The same message the file validator gives for the same mistake in YAML.
        let fromFile = ConfigLoader.load(yaml: "log:\n  level: loud\n", file: "remote:4")
        guard case .failure(let fileError) = fromFile else {
            Issue.record("the file validator accepted it")
            return
        }
        #expect(issues.first { $0.path == "log.level" }?.message == fileError.issues.first?.message)
    }

    @Test func numbersMeanWhatTheirCanonicalFormSays() throws {
        let node = try config(#"{"a": 8080.0, "b": "10", "c": 1.5}"#).configNode(file: "remote:1")
        #expect(node["a"]?.content == .int(8080))
        #expect(node["b"]?.content == .string("10"))
        #expect(node["b"]?.isQuoted == true)
        #expect(node["c"]?.content == .double(1.5))
        #expect(node["a"]?.path == "a")
    }

    @Test func aDocumentMustHaveItsMembers() {
        let problems: [String]
        switch RemoteConfigDocument.parse(Array(#"{"version": 0, "config": [], "extra": 1, "key_id": "../x"}"#.utf8)) {
        case .success: problems = []
        case .failure(let rejection): problems = rejection.problems.map(\.path)
        }
        #expect(Set(problems) == ["extra", "gateway", "version", "config", "key_id", "signature"])
        #expect(VersionRule.problem(version: 5, lastApplied: nil) == nil)
        #expect(VersionRule.problem(version: 5, lastApplied: 5)?.kind == .staleVersion)
        #expect(VersionRule.problem(version: 6, lastApplied: 5) == nil)
    }

    @Test func verifyRunsEveryCheckAndReportsEveryProblem() throws {
        let key = SigningKey.generate(keyID: "k")
        let document = RemoteConfigDocument(
            gateway: "gw-02", version: 2,
            config: try config(#"{"gateway": {"id": "x"}, "log": {"level": "loud"}}"#))
        let text = try key.sign(document).get().json.canonicalText().get()
        let context = VerificationContext(
            gateway: "gw-01", trustedKeys: TrustedKeys([key.publicKey]), lastAppliedVersion: 2, now: 0)
        guard
            case .failure(let rejection) = RemoteConfigVerifier.verify(
                Array(text.utf8), local: ConfigNode(.null), context: context)
        else {
            Issue.record("accepted")
            return
        }
        #expect(rejection.kinds == [.wrongGateway, .staleVersion, .forbiddenSection, .invalidConfig])
    }
}
