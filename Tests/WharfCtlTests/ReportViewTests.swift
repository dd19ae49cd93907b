import PropertyBased
import RemoteConfigState
import Testing

@testable import WharfCtlCommands

/// The reported state as wharfctl reads it, from the document the gateway writes.
@Suite struct ReportViewTests {
    static func report(_ attempt: Attempt?, provisional: Bool = false) -> [UInt8] {
        let record = RemoteConfigRecord(
            lastKnownGood: 6, highestVersion: 7, desiredSeen: 7,
            provisional: provisional ? Candidate(version: 7, sections: ["adapters"], needsRestart: false) : nil,
            lastAttempt: attempt, updatedAt: 1_767_225_600)
        return Array(RemoteConfigReport(record: record).document(effectiveConfigHash: "h\"1").utf8)
    }

    @Test func readsTheGatewaysDocument() throws {
        let attempt = Attempt(
            version: 7, result: .rejected, sections: ["adapters", "log"],
            errors: [
                ReportedError(path: "config.adapters[0].port", message: "expected 1 to 65535"),
                ReportedError(path: "", message: "the signature does not match"),
            ], startedAt: 1_767_225_590, finishedAt: 1_767_225_600)
        let view = try RemoteConfigReportView.parse(Self.report(attempt)).get()
        #expect(view.desiredVersion == 7 && view.runningVersion == 6 && view.lastKnownGoodVersion == 6)
        #expect(!view.provisional)
        #expect(view.effectiveConfigHash == "h\"1" && view.updatedAt == 1_767_225_600)
        let read = try #require(view.lastAttempt)
        #expect(read.version == 7 && read.result == "rejected" && read.sections == ["adapters", "log"])
        #expect(
            read.errors.map(\.line) == ["config.adapters[0].port: expected 1 to 65535", "the signature does not match"])
        #expect(read.startedAt == 1_767_225_590 && read.finishedAt == 1_767_225_600)
    }

    @Test func nullsAreAbsentValues() throws {
        let empty = RemoteConfigReport(record: .initial).document(effectiveConfigHash: "")
        let view = try RemoteConfigReportView.parse(Array(empty.utf8)).get()
        #expect(view.desiredVersion == nil && view.runningVersion == nil && view.lastKnownGoodVersion == nil)
        #expect(view.lastAttempt == nil)
        let pending = try RemoteConfigReportView.parse(
            Self.report(
                Attempt(
                    version: 7, result: .pendingConfirmation, sections: [], errors: [], startedAt: 1, finishedAt: nil),
                provisional: true)
        ).get()
        #expect(pending.provisional && pending.runningVersion == 7 && pending.lastAttempt?.finishedAt == nil)
    }

    /// Whatever the gateway writes (any result, any text in paths and messages), wharfctl reads it back.
    @Test func everyReportReadsBack() async {
        let text = Gen.character(in: "\u{0}"..."\u{7F}").string(of: 0...12)
        await propertyCheck(
            input: Gen.uint64(in: 1...UInt64.max), Gen.int(in: 0...3), text.array(of: 0...3),
            Gen.int64(in: Int64.min...Int64.max)
        ) { version, index, strings, time in
            let result = AttemptResult.allCases[index]
            let attempt = Attempt(
                version: version, result: result, sections: strings,
                errors: strings.map { ReportedError(path: $0, message: $0 + "\u{2028}é") }, startedAt: time,
                finishedAt: result == .pendingConfirmation ? nil : time)
            let view = try? RemoteConfigReportView.parse(Self.report(attempt)).get()
            #expect(view?.lastAttempt?.version == version)
            #expect(view?.lastAttempt?.result == result.rawValue)
            #expect(view?.lastAttempt?.sections == strings)
            #expect(view?.lastAttempt?.errors.map(\.message) == strings.map { $0 + "\u{2028}é" })
            #expect(view?.lastAttempt?.startedAt == time)
        }
    }

    @Test func whatIsNotAReportSaysWhy() {
        #expect(RemoteConfigReportView.parse(Array("offline".utf8)).failure?.description.contains("not JSON") == true)
        let wrongType = RemoteConfigReportView.parse(
            Array(#"{"last_attempt":{"version":"7","result":"applied"}}"#.utf8))
        #expect(wrongType.failure?.description.hasPrefix("last_attempt.version: ") == true)
        let missing = RemoteConfigReportView.parse(Array(#"{"last_attempt":{"result":"applied"}}"#.utf8))
        #expect(missing.failure?.description == "last_attempt: missing member 'version'")
    }

    @Test func theStatusDocumentsMemberKeepsSourceKeysAsTheyAre() throws {
        let status = """
            {"version":"1.0","remote_config":{"enabled":true,"topic_prefix":"wharf/gw1/config","desired_version":8,
             "running_version":7,"last_known_good_version":7,"provisional":false,"last_attempt":null,
             "confirmation_seconds_left":null,"effective_config_hash":"abc","updated_at":5,
             "sources":{"broker.max_connections":"remote:7","log":"local"}}}
            """
        let view = try #require(try RemoteConfigReportView.fromStatus(status))
        #expect(view.enabled == true && view.topicPrefix == "wharf/gw1/config")
        #expect(view.sources == ["broker.max_connections": "remote:7", "log": "local"])
        #expect(try RemoteConfigReportView.fromStatus(#"{"version":"1.0"}"#) == nil)
        #expect(try RemoteConfigReportView.fromStatus(#"{"remote_config":null}"#) == nil)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
