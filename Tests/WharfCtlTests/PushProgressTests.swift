import PropertyBased
import Testing

@testable import WharfCtlCommands

/// What `config push` prints and decides from the reports it receives.
@Suite struct PushProgressTests {
    static func report(_ version: UInt64, _ result: String, errors: [(String, String)] = []) -> [UInt8] {
        let list = errors.map { #"{"path":"\#($0.0)","message":"\#($0.1)"}"# }.joined(separator: ",")
        return Array(
            #"""
            {"desired_version":\#(version),"running_version":6,"last_known_good_version":6,"provisional":false,
             "last_attempt":{"version":\#(version),"result":"\#(result)","sections":["adapters"],"errors":[\#(list)],
             "started_at":1,"finished_at":2},"effective_config_hash":"x","updated_at":2}
            """#.utf8)
    }

    static func progress(_ gateways: [String] = ["gw-1", "gw-2", "gw-3"], wait: PushProgress.Wait = .applied)
        -> PushProgress
    {
        var progress = PushProgress(versions: gateways.map { ($0, 7) }, wait: wait)
        for gateway in gateways { progress.markPublished(gateway: gateway) }
        return progress
    }

    @Test func eachOutcomeIsOneLineAndFinal() {
        var progress = Self.progress()
        #expect(progress.receive(gateway: "gw-1", payload: Self.report(7, "applied")) == ["gw-1: applied (version 7)"])
        #expect(
            progress.receive(
                gateway: "gw-2",
                payload: Self.report(7, "rejected", errors: [("config.adapters[0].port", "too big"), ("", "whole")]))
                == [
                    "gw-2: rejected (version 7): config.adapters[0].port: too big", "gw-2: rejected (version 7): whole",
                ])
        #expect(!progress.isComplete)
        #expect(
            progress.receive(gateway: "gw-3", payload: Self.report(7, "rolled-back")) == [
                "gw-3: rolled-back (version 7)"
            ])
        #expect(progress.isComplete)
        // An outcome is final: a later report changes nothing.
        #expect(progress.receive(gateway: "gw-1", payload: Self.report(7, "rolled-back")).isEmpty)
        let summary = progress.summary(waited: "10m")
        #expect(summary.lines == ["3 gateways: 1 applied, 1 rejected, 1 rolled-back"])
        #expect(summary.exitCode == 1)
    }

    @Test func reportsOfOtherVersionsAreNotOutcomes() {
        var progress = Self.progress(["gw-1"])
        #expect(progress.receive(gateway: "gw-1", payload: Self.report(6, "applied")).isEmpty)
        #expect(progress.receive(gateway: "gw-1", payload: Self.report(8, "rejected")).isEmpty)
        #expect(progress.receive(gateway: "gw-9", payload: Self.report(7, "applied")).isEmpty)
        #expect(progress.state(of: "gw-1") == .waiting)
        let summary = progress.summary(waited: "5s")
        #expect(summary.lines.first?.hasPrefix("gw-1: no outcome within 5s (last report: version 6") == true)
        #expect(summary.lines.last == "1 gateway: 1 no outcome")
        #expect(summary.exitCode == 1)
    }

    @Test func pendingConfirmationWaitsForApplied() {
        var progress = Self.progress(["gw-1"])
        #expect(
            progress.receive(gateway: "gw-1", payload: Self.report(7, "pending-confirmation"))
                == ["gw-1: pending-confirmation (version 7), waiting for confirmation"])
        #expect(progress.receive(gateway: "gw-1", payload: Self.report(7, "pending-confirmation")).isEmpty)
        #expect(!progress.isComplete)
        #expect(progress.summary(waited: "1s").lines.first == "gw-1: no outcome within 1s (pending confirmation)")
        #expect(progress.receive(gateway: "gw-1", payload: Self.report(7, "applied")) == ["gw-1: applied (version 7)"])
        #expect(progress.summary(waited: "1s") == (["1 gateway: 1 applied"], 0))
    }

    @Test func withWaitPendingPendingIsAnOutcome() {
        var progress = Self.progress(["gw-1", "gw-2"], wait: .pending)
        #expect(
            progress.receive(gateway: "gw-1", payload: Self.report(7, "pending-confirmation"))
                == ["gw-1: pending-confirmation (version 7)"])
        _ = progress.receive(gateway: "gw-2", payload: Self.report(7, "applied"))
        #expect(progress.isComplete)
        #expect(progress.summary(waited: "1s") == (["2 gateways: 1 applied, 1 pending-confirmation"], 0))
    }

    @Test func silenceAndUnreadableReportsAreNamed() {
        var progress = PushProgress(versions: [("gw-1", 7), ("gw-2", 7), ("gw-3", 7)], wait: .applied)
        progress.markPublished(gateway: "gw-1")
        progress.markPublished(gateway: "gw-2")
        #expect(
            progress.receive(gateway: "gw-2", payload: Array("offline".utf8)).first?.hasPrefix(
                "gw-2: unreadable report: ") == true)
        #expect(progress.receive(gateway: "gw-2", payload: Array("offline".utf8)).isEmpty)
        let lines = progress.summary(waited: "2s").lines
        #expect(lines[0] == "gw-1: no outcome within 2s (no report received)")
        #expect(lines[1].hasPrefix("gw-2: no outcome within 2s (unreadable report: "))
        #expect(lines[2] == "gw-3: no outcome within 2s (its document was not acknowledged by the broker)")
        #expect(lines[3] == "3 gateways: 3 no outcome")
    }

    @Test func aFailedPublishIsAnOutcome() {
        var progress = Self.progress(["gw-1"])
        #expect(
            progress.fail(gateway: "gw-1", reason: "the broker refused the document") == [
                "gw-1: the broker refused the document"
            ])
        #expect(progress.isComplete)
        #expect(progress.summary(waited: "1s") == (["1 gateway: 1 failed"], 1))
    }

    /// However the gateways' reports interleave, each gateway's outcome is the first final report of
    /// the pushed version, and the push succeeds exactly when every one of them is `applied`.
    @Test func outcomesDoNotDependOnTheOrderOfReports() async {
        let results = ["applied", "rejected", "rolled-back", "pending-confirmation"]
        let reports = zip(Gen.int(in: 0...3), zip(Gen.int(in: 6...8), Gen.int(in: 0...3))).array(of: 0...40)
        await propertyCheck(input: reports) { reports in
            var progress = Self.progress(["gw-0", "gw-1", "gw-2", "gw-3"])
            var expected: [String: String] = [:]
            for (gateway, (version, result)) in reports {
                let name = "gw-\(gateway)"
                _ = progress.receive(gateway: name, payload: Self.report(UInt64(version), results[result]))
                if version == 7 && result != 3 && expected[name] == nil { expected[name] = results[result] }
            }
            for gateway in 0...3 {
                let name = "gw-\(gateway)"
                if let result = expected[name] {
                    #expect(progress.state(of: name) == .done(result: result, success: result == "applied"))
                } else {
                    #expect(!progress.hasOutcome(name))
                }
            }
            let allApplied = (0...3).allSatisfy { expected["gw-\($0)"] == "applied" }
            #expect((progress.summary(waited: "1s").exitCode == 0) == allApplied)
        }
    }
}
