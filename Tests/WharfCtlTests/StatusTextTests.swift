import Testing

@testable import WharfCtlCommands

/// How `config status`, `status` and `config apply` show remote configuration.
@Suite struct StatusTextTests {
    static let view: RemoteConfigReportView = {
        var view = RemoteConfigReportView(
            runningVersion: 7, lastKnownGoodVersion: 6, provisional: true,
            lastAttempt: .init(
                version: 7, result: "pending-confirmation", sections: ["adapters", "log"],
                errors: [.init(path: "config.log.level", message: "unknown level")], startedAt: 1_767_225_600))
        view.enabled = true
        view.topicPrefix = "wharf/gw1/config"
        view.desiredVersion = 7
        view.confirmationSecondsLeft = 212.4
        view.effectiveConfigHash = "abc"
        view.updatedAt = 1_767_225_601
        view.sources = ["log": "remote:7", "adapters": "remote:7", "uplink.forward": "local"]
        return view
    }()

    @Test func theFullStatus() {
        #expect(
            RemoteConfigStatusText.text(Self.view) == """
                topics:          wharf/gw1/config/desired, wharf/gw1/config/reported
                running:         version 7, provisional (3m 32s left to confirm)
                last-known-good: version 6
                desired:         version 7
                last attempt:    version 7: pending-confirmation, sections adapters, log
                  at:            2026-01-01T00:00:00Z
                  error:         config.log.level: unknown level
                config hash:     abc
                source:          adapters: remote:7
                source:          log: remote:7
                source:          uplink.forward: local
                updated:         2026-01-01T00:00:01Z
                """)
    }

    @Test func theStatusLine() {
        #expect(
            RemoteConfigStatusText.summary(Self.view)
                == "version 7, provisional (3m 32s left to confirm); last attempt version 7: pending-confirmation")
        #expect(RemoteConfigStatusText.summary(RemoteConfigReportView()) == "local file only")
    }

    @Test func wharfctlStatusShowsOneLineWhenPresent() throws {
        let base = """
            "version":"1.0","gateway_id":"gw1","uptime_seconds":5,"health":{"problems":[]},"listeners":[],
            "broker":{"clients_connected":0},"adapters":[]
            """
        let without = try StatusDocument.decode("{\(base)}")
        #expect(without.remoteConfig == nil)
        #expect(!StatusReport(without).text.contains("remote config"))
        let with = try StatusDocument.decode(
            """
            {\(base),"remote_config":{"enabled":true,"topic_prefix":"wharf/gw1/config","desired_version":4,
             "running_version":3,"last_known_good_version":3,"provisional":false,
             "last_attempt":{"version":4,"result":"rolled-back","sections":["uplink.forward"],"errors":[],
             "started_at":1,"finished_at":2},"confirmation_seconds_left":null,"effective_config_hash":"h",
             "updated_at":2,"sources":{}}}
            """)
        #expect(
            StatusReport(with).text.split(separator: "\n").contains(
                "remote config: version 3; last attempt version 4: rolled-back"))
    }

    @Test func applyOutcomes() throws {
        let taken = try #require(
            ApplyOutcomeView.parse(#"{"result":"pending-confirmation","version":7,"errors":[],"message":""}"#))
        #expect(taken.lines == ["version 7: pending-confirmation"])
        let refused = try #require(
            ApplyOutcomeView.parse(
                #"{"result":"rejected","version":null,"message":"2 problems","errors":[{"path":"gateway","message":"wrong"},{"path":"","message":"bad"}]}"#
            ))
        #expect(refused.lines == ["document: rejected", "2 problems", "gateway: wrong", "bad"])
        #expect(ApplyOutcomeView.parse("not found\n") == nil)
    }
}
