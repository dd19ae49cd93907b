import Testing

@testable import RemoteConfigState

@Suite struct RemoteConfigReportTests {
    @Test func theDocumentNamesEveryFieldAndEscapesStrings() {
        let report = RemoteConfigReport(record: fullRecord)
        let expected =
            #"{"desired_version":8,"running_version":7,"last_known_good_version":5,"provisional":true,"#
            + #""last_attempt":{"version":7,"result":"pending-confirmation","sections":["adapters"],"#
            + #""errors":[{"path":"adapters[0].port","message":"line one\nline two = \"x\"\r\t\\"}],"#
            + #""started_at":1700000000,"finished_at":null},"effective_config_hash":"sha256:a\"b","#
            + #""uplink_endpoint":"cloud-2.example:8883","updated_at":1700000100}"#
        #expect(
            report.document(effectiveConfigHash: "sha256:a\"b", uplinkEndpoint: "cloud-2.example:8883") == expected)
    }

    @Test func aGatewayThatNeverTookARemoteConfigReportsNulls() {
        let document = RemoteConfigReport(record: .initial).document(effectiveConfigHash: "h")
        #expect(
            document
                == #"{"desired_version":null,"running_version":null,"last_known_good_version":null,"provisional":false,"#
                + #""last_attempt":null,"effective_config_hash":"h","uplink_endpoint":null,"updated_at":0}"#)
    }

    @Test func aRollbackIsReportedAfterTheRestartThatRestoredTheLastKnownGood() {
        let record = RemoteConfigRecord(
            lastKnownGood: 5, highestVersion: 6, desiredSeen: 6,
            lastAttempt: Attempt(
                version: 6, result: .rolledBack, sections: ["uplink"],
                errors: [ReportedError(path: "", message: "not confirmed within 2m: the uplink was not connected")],
                startedAt: 10, finishedAt: 130), updatedAt: 130)
        var machine = Machine.resume(record: record, policy: testPolicy, now: 0, wallNow: 200).machine
        let actions = machine.handle(.uplinkConnected, now: second, wallNow: 201)
        let document = actions.reports.first?.document(effectiveConfigHash: "h") ?? ""
        #expect(document.contains(#""running_version":5"#))
        #expect(document.contains(#""result":"rolled-back""#))
        #expect(document.contains(#""finished_at":130"#))
        // And again after the next reconnect.
        _ = machine.handle(.uplinkLost, now: 2 * second, wallNow: 202)
        #expect(machine.handle(.uplinkConnected, now: 3 * second, wallNow: 203).reports == actions.reports)
    }
}
