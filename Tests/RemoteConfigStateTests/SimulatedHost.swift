import Testing

@testable import RemoteConfigState

typealias Machine = RemoteConfigMachine
typealias Action = RemoteConfigMachine.Action

/// One second in nanoseconds.
let second: UInt64 = 1_000_000_000

/// A policy with short, distinct times: 120 s to confirm after a 20 s hold, 3 starts within 10 min.
let testPolicy = ConfirmationPolicy(
    confirmWithin: .seconds(120), confirmAfter: .seconds(20), maxProvisionalStarts: 3, startWindow: .seconds(600),
    checkpointInterval: .seconds(10))

/// How the world treats a configuration version.
struct World: Sendable {
    /// Versions with which the uplink cannot connect.
    var uplinkDeadWith: Set<UInt64> = []
    /// Versions with which a health check fails.
    var unhealthyWith: Set<UInt64> = []
    /// Versions with which the daemon crashes as soon as it starts.
    var crashesWith: Set<UInt64> = []
    /// Versions whose live apply fails.
    var applyFailsWith: Set<UInt64> = []
}

/// The simulated end of the run: the host was stopped by a crash injected after an action.
struct Crash: Error {}

/// A host that performs the machine's actions against a simulated disk and world, crashes where it is
/// told to, restarts from what the disk holds, and checks the lifecycle's promises on every action.
struct SimulatedHost {
    var world: World
    var policy: ConfirmationPolicy
    /// The machine of the running process.
    var machine: Machine
    /// The record file's content: only `.persist` changes it (atomically).
    var disk: String
    /// The staged configuration files, by version.
    var files: Set<UInt64>
    /// The version running (0: the local file).
    var running: UInt64 = 0
    /// Nanoseconds since the simulation began; the monotonic clock restarts at each boot.
    var elapsed: UInt64 = 0
    var bootedAt: UInt64 = 0
    /// Crash right after this many actions (counted across restarts).
    var crashAfter: Int?
    var actionCount = 0
    var restarts = 0
    /// Host answers waiting to be delivered.
    var answers: [Machine.Event] = []
    /// Versions confirmed by a hold the host saw: connected and healthy since `goodSince`.
    var goodSince: UInt64?
    var uplinkUp = false
    /// Versions whose attempt ended: they may never run provisionally again.
    var ended: Set<UInt64> = []
    /// Every report published while the uplink was up.
    var published: [RemoteConfigReport] = []
    /// The retained desired document, delivered again after every connect.
    var desired: Candidate?
    var log: [String] = []

    var now: UInt64 { elapsed - bootedAt }
    var wallNow: Int64 { 1_700_000_000 + Int64(elapsed / second) }

    /// A host whose disk says `lastKnownGood` was confirmed, booted.
    init(world: World = World(), policy: ConfigPolicy = testPolicy, lastKnownGood: UInt64 = 5, crashAfter: Int? = nil) {
        self.world = world
        self.policy = policy
        let record = RemoteConfigRecord(
            lastKnownGood: lastKnownGood, highestVersion: lastKnownGood, desiredSeen: lastKnownGood,
            lastAttempt: Attempt(
                version: lastKnownGood, result: .applied, sections: ["adapters"], errors: [], startedAt: 1,
                finishedAt: 2))
        disk = record.encoded()
        files = lastKnownGood == 0 ? [] : [lastKnownGood]
        machine = Machine.resume(record: record, policy: policy, now: 0, wallNow: 1).machine
        self.crashAfter = crashAfter
        boot()
    }

    /// The record on disk, decoded (it must always decode: writes are atomic).
    var stored: RemoteConfigRecord {
        do {
            return try RemoteConfigRecord(decoding: disk)
        } catch {
            Issue.record("the record on disk does not decode: \(error)")
            return .initial
        }
    }

    /// Starts the daemon from the disk; a crash injected meanwhile restarts it again.
    mutating func boot() {
        restarts += 1
        guard restarts < 60 else {
            Issue.record("the daemon restarts without end")
            return
        }
        elapsed += 2 * second
        bootedAt = elapsed - 1  // a fresh monotonic clock
        answers = []
        uplinkUp = false
        goodSince = nil
        let (machine, actions) = Machine.resume(record: stored, policy: policy, now: now, wallNow: wallNow)
        self.machine = machine
        do {
            try perform(actions)
            if world.crashesWith.contains(running) {
                log.append("crash at start with \(running)")
                return boot()
            }
            connectWorld()
        } catch {
            boot()
        }
    }

    /// Tells the machine what the world does with the version running.
    mutating func connectWorld() {
        answers.append(world.unhealthyWith.contains(running) ? .healthFailed : .healthPassed)
        if !world.uplinkDeadWith.contains(running) {
            answers.append(.uplinkConnected)
            if let desired { answers.append(.documentAccepted(desired)) }
        }
    }

    /// The operator publishes a document (retained).
    mutating func push(_ candidate: Candidate) {
        desired = candidate
        if uplinkUp { answers.append(.documentAccepted(candidate)) }
        settle()
    }

    /// Delivers every pending answer.
    mutating func settle() {
        while !answers.isEmpty {
            let event = answers.removeFirst()
            send(event)
        }
    }

    /// Delivers one event and performs the actions; restarts after an injected crash.
    mutating func send(_ event: Machine.Event) {
        switch event {
        case .uplinkConnected: uplinkUp = true
        case .uplinkLost: uplinkUp = false
        default: break
        }
        let healthyNow = !world.unhealthyWith.contains(running)
        if uplinkUp && healthyNow && goodSince == nil { goodSince = now }
        let actions = machine.handle(event, now: now, wallNow: wallNow)
        do {
            try perform(actions)
        } catch {
            boot()
        }
    }

    /// Lets `duration` pass, ticking at every deadline and delivering answers.
    mutating func drive(for duration: UInt64) {
        let end = elapsed + duration
        while true {
            settle()
            guard let deadline = machine.nextDeadline, deadline + bootedAt <= end else { break }
            elapsed = max(elapsed, deadline + bootedAt)
            send(.tick)
        }
        elapsed = end
        send(.tick)
        settle()
    }

    /// Performs actions in order, crashing after the `crashAfter`-th.
    mutating func perform(_ actions: [Action]) throws(Crash) {
        for action in actions {
            if try perform(action) { return }
            try count(action)
        }
    }

    /// Counts a performed action, and crashes if this is the one to crash after.
    mutating func count(_ action: Action) throws(Crash) {
        actionCount += 1
        if actionCount == crashAfter {
            log.append("crash after \(action)")
            throw Crash()
        }
    }

    /// Ends the process after `action` (a restart, or a crash the world causes) and boots again.
    mutating func restart(after action: Action) {
        actionCount += 1
        // A crash injected here ends the process just as the restart does.
        if actionCount == crashAfter { log.append("crash after \(action)") }
        boot()
    }

    /// Performs one action; `true` when it ended the process (a restart).
    mutating func perform(_ action: Action) throws(Crash) -> Bool {
        let onDisk = stored
        switch action {
        case .writeStaged(let candidate):
            #expect(!ended.contains(candidate.version), "version \(candidate.version) staged again")
            files.insert(candidate.version)
            answers.append(.stagedWritten(version: candidate.version))
        case .persist(let record, _):
            check(record, replacing: onDisk)
            disk = record.encoded()
            if let attempt = record.lastAttempt, attempt.result != .pendingConfirmation {
                ended.insert(attempt.version)
            }
        case .applyLive(let candidate):
            #expect(onDisk.provisional == candidate, "applied live without the provisional marker on disk")
            running = candidate.version
            goodSince = nil
            if world.applyFailsWith.contains(candidate.version) {
                answers.append(
                    .applyFailed(
                        version: candidate.version, errors: [ReportedError(path: "adapters[0]", message: "port in use")]
                    ))
            } else if world.crashesWith.contains(candidate.version) {
                restart(after: action)
                return true
            } else {
                answers.append(.appliedLive(version: candidate.version))
                reconnectWorld()
            }
        case .restartDaemon:
            #expect(onDisk.provisional != nil, "a restart to apply without the provisional marker on disk")
            restart(after: action)
            return true
        case .start(let choice):
            switch choice {
            case .lastKnownGood(let version):
                #expect(version == onDisk.lastKnownGood && onDisk.provisional == nil)
                #expect(version == 0 || files.contains(version), "the last-known-good file is gone")
                running = version
            case .provisional(let candidate):
                #expect(onDisk.provisional == candidate)
                #expect(
                    !ended.contains(candidate.version), "version \(candidate.version) started after its attempt ended")
                #expect(files.contains(candidate.version), "the staged file is gone")
                running = candidate.version
            }
        case .rollBack(let version, let byRestart):
            #expect(
                version == onDisk.lastKnownGood && onDisk.provisional == nil, "rolled back to an unconfirmed version")
            if byRestart {
                restart(after: action)
                return true
            }
            running = version
            goodSince = nil
            answers.append(.rolledBackLive)
            reconnectWorld()
        case .removeStaged(let keeping):
            #expect(
                onDisk.lastKnownGood == 0 || keeping.contains(onDisk.lastKnownGood), "the last-known-good file removed")
            if let provisional = onDisk.provisional {
                #expect(keeping.contains(provisional.version), "the provisional file removed")
            }
            files = files.filter { keeping.contains($0) }
        case .publishReport(let report):
            #expect(report == RemoteConfigReport(record: machine.record))
            if uplinkUp { published.append(report) }
        case .reconsiderDesired, .log:
            break
        }
        return false
    }

    /// After a live change, the uplink and the health checks follow the new version.
    mutating func reconnectWorld() {
        answers.append(.uplinkLost)
        connectWorld()
    }

    /// The promises about the record: the last-known-good changes only to a version that held for
    /// `confirmAfter` while running, and the version floor never goes down.
    func check(_ record: RemoteConfigRecord, replacing old: RemoteConfigRecord) {
        #expect(record.highestVersion >= old.highestVersion)
        if let provisional = record.provisional {
            #expect(provisional.version <= record.highestVersion)
        }
        guard record.lastKnownGood != old.lastKnownGood else { return }
        #expect(record.lastKnownGood == running, "promoted a version that does not run")
        #expect(old.provisional?.version == record.lastKnownGood, "promoted a version that was not provisional")
        let held = goodSince.map { now - $0 >= Machine.nanoseconds(policy.confirmAfter) } ?? false
        #expect(held, "promoted without the uplink and health checks holding for confirm_after")
        #expect(uplinkUp && !world.uplinkDeadWith.contains(running) && !world.unhealthyWith.contains(running))
    }
}

typealias ConfigPolicy = ConfirmationPolicy

extension Machine {
    /// `duration` in nanoseconds.
    static func nanoseconds(_ duration: Duration) -> UInt64 { ConfirmationPolicy.nanoseconds(duration) }
}
