import Testing

@testable import RemoteConfigState

/// A push of version 6 over a confirmed version 5, in a world that treats 6 some way.
struct CrashScenario: Sendable, CustomTestStringConvertible {
    var name: String
    var candidate: Candidate
    var world: World
    /// Whether version 6 must end confirmed; otherwise 5 must run again, reported `rolled-back`.
    var confirms: Bool
    /// Whether a crash may change the outcome: a live apply that fails may succeed at the start that
    /// follows a crash (the port it wanted is free again), and then confirm.
    var crashMayConfirm = false

    var testDescription: String { name }

    static let all: [CrashScenario] = [
        CrashScenario(name: "live change that works", candidate: live, world: World(), confirms: true),
        CrashScenario(name: "restart change that works", candidate: restart, world: World(), confirms: true),
        CrashScenario(
            name: "live change that cuts the uplink", candidate: live, world: World(uplinkDeadWith: [6]),
            confirms: false),
        CrashScenario(
            name: "restart change that cuts the uplink", candidate: restart, world: World(uplinkDeadWith: [6]),
            confirms: false),
        CrashScenario(
            name: "live change that fails its health checks", candidate: live, world: World(unhealthyWith: [6]),
            confirms: false),
        CrashScenario(
            name: "live change that fails to apply", candidate: live, world: World(applyFailsWith: [6]),
            confirms: false, crashMayConfirm: true),
        CrashScenario(
            name: "live change that crashes the daemon", candidate: live, world: World(crashesWith: [6]),
            confirms: false),
        CrashScenario(
            name: "restart change that crashes the daemon", candidate: restart, world: World(crashesWith: [6]),
            confirms: false),
    ]

    static let live = Candidate(version: 6, sections: ["adapters", "log"], needsRestart: false)
    static let restart = Candidate(version: 6, sections: ["uplink"], needsRestart: true)

    /// Runs the scenario for an hour of simulated time, crashing after the `crashAfter`-th action.
    func run(crashAfter: Int?) -> SimulatedHost {
        var host = SimulatedHost(world: world, crashAfter: crashAfter)
        host.drive(for: 5 * second)
        host.push(candidate)
        host.drive(for: 3_600 * second)
        return host
    }

    /// The outcome is consistent: nothing provisional is left, and either 6 is confirmed and runs, or
    /// 5 runs again and the cloud was told `rolled-back` once the uplink was back.
    func checkOutcome(_ host: SimulatedHost, _ context: String, crashed: Bool = false) {
        let record = host.stored
        #expect(record.provisional == nil, "\(context)")
        #expect(host.machine.state.isAtRest, "\(context): \(host.machine.state)")
        #expect(record.highestVersion == 6, "\(context)")
        #expect(host.files == [record.lastKnownGood], "\(context): staged files left \(host.files)")
        let confirmed = crashed && crashMayConfirm ? host.stored.lastKnownGood == 6 : confirms
        if confirmed {
            #expect(record.lastKnownGood == 6 && host.running == 6, "\(context)")
            #expect(record.lastAttempt?.result == .applied, "\(context)")
            #expect(host.published.last?.lastAttempt?.result == .applied, "\(context)")
        } else {
            #expect(record.lastKnownGood == 5 && host.running == 5, "\(context)")
            #expect(record.lastAttempt?.result == .rolledBack, "\(context)")
            #expect(host.published.last?.lastAttempt?.result == .rolledBack, "\(context)")
            #expect(host.published.last?.runningVersion == 5, "\(context)")
        }
    }
}

@Suite struct RemoteConfigCrashTests {
    @Test(arguments: CrashScenario.all)
    func withoutACrashTheOutcomeIsTheExpectedOne(_ scenario: CrashScenario) {
        let host = scenario.run(crashAfter: nil)
        scenario.checkOutcome(host, scenario.name)
        #expect(host.actionCount > 5)
    }

    /// A crash (kill -9, power loss) after every action the host performs: the process is dropped,
    /// only the disk remains, the daemon resumes from it, and the outcome is still consistent.
    @Test(arguments: CrashScenario.all)
    func aCrashAfterEveryActionLeavesAConsistentOutcome(_ scenario: CrashScenario) {
        let total = scenario.run(crashAfter: nil).actionCount
        for crashAfter in 1...total {
            let host = scenario.run(crashAfter: crashAfter)
            let context = "\(scenario.name), crash after action \(crashAfter) of \(total): \(host.log)"
            #expect(host.log.contains { $0.hasPrefix("crash after") }, "\(context)")
            scenario.checkOutcome(host, context, crashed: true)
        }
    }
}
