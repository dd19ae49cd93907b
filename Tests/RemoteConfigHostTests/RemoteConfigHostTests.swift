import Logging
import RemoteConfig
import RemoteConfigHost
import RemoteConfigState
import Testing
import WharfConfig

#if canImport(Glibc)
    import Glibc
#endif

/// A fresh directory under /tmp, removed by nobody: the tests write only a few small files.
private func temporaryDirectory() -> String {
    var template = Array("/tmp/wharf-rc-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { return "/tmp/wharf-rc-\(getpid())" }
    return String(cString: made)
}

private func tree(_ yaml: String) throws -> ConfigNode {
    switch ConfigLoader.parse(yaml: yaml, file: "wharf.yaml") {
    case .success(let node): return node
    case .failure(let error): throw error
    }
}

private func configuration(_ yaml: String) throws -> WharfConfiguration {
    try ConfigLoader.load(yaml: yaml, file: "wharf.yaml").get()
}

/// A signed document of `config` (JSON text) for gateway `gw1`.
private func document(_ config: String, version: Int, key: SigningKey) throws -> [UInt8] {
    let value = try JSONParser.parse(Array(config.utf8)).get()
    let unsigned = RemoteConfigDocument(gateway: "gw1", version: version, config: value)
    return Array(try key.sign(unsigned).get().json.canonicalText().get().utf8)
}

@Suite struct ConfigChangesTests {
    @Test func adaptersLogAndACLApplyLive() throws {
        let old = try configuration("log:\n  level: info\n")
        var new = old
        new.log.level = .debug
        new.broker.aclFile = "/var/lib/wharf/config/acl-3"
        let changes = ConfigChanges(from: old, to: new)
        #expect(changes.sections == ["log", "acl"])
        #expect(!changes.needsRestart && !changes.uplinkConnectionChanged)
    }

    @Test func uplinkRulesNeedARestartButNoPreflight() throws {
        let old = try configuration("uplink:\n  host: cloud.example\n")
        let new = try configuration(
            "uplink:\n  host: cloud.example\n  forward:\n    - filter: a/#\n      remote_prefix: x/\n")
        let changes = ConfigChanges(from: old, to: new)
        #expect(changes.sections == ["uplink.forward"])
        #expect(changes.needsRestart && !changes.uplinkConnectionChanged)
    }

    @Test func theUplinkEndpointNeedsARestartAndAPreflight() throws {
        let old = try configuration("uplink:\n  host: cloud.example\n")
        let new = try configuration("uplink:\n  host: other.example\n  port: 8883\n")
        let changes = ConfigChanges(from: old, to: new)
        #expect(changes.sections == ["uplink"])
        #expect(changes.needsRestart && changes.uplinkConnectionChanged)
    }

    @Test func nothingChangedIsNothing() throws {
        let same = try configuration("log:\n  level: info\n")
        #expect(ConfigChanges(from: same, to: same) == ConfigChanges(from: .default, to: .default))
        #expect(ConfigChanges(from: same, to: same).sections.isEmpty)
    }
}

@Suite struct RemoteConfigStartupTests {
    let logger = Logger(label: "test")
    let key = SigningKey.generate(keyID: "ops")

    @Test func aFirstStartRunsTheLocalFile() throws {
        let files = RemoteConfigFiles(dataDirectory: temporaryDirectory())
        let local = try tree("log:\n  level: info\n")
        let plan = try RemoteConfigStartup.plan(
            localTree: local, localConfiguration: try configuration("log:\n  level: info\n"),
            settings: RemoteConfigConfig(), files: files, logger: logger)
        #expect(plan.running.version == 0)
        #expect(plan.running.sources["adapters"] == "local")
        #expect(plan.machine.state == .idle)
    }

    @Test func aProvisionalVersionStartsAndCountsItsStart() throws {
        let files = RemoteConfigFiles(dataDirectory: temporaryDirectory())
        try files.prepare()
        try files.stage(
            version: 4, document: try document(#"{"log": {"level": "debug"}}"#, version: 4, key: key), acl: nil)
        let candidate = Candidate(version: 4, sections: ["log"], needsRestart: false)
        try files.writeRecord(
            RemoteConfigRecord(highestVersion: 4, provisional: candidate, remainingNanoseconds: 120_000_000_000))
        let local = try tree("log:\n  level: info\n")
        let plan = try RemoteConfigStartup.plan(
            localTree: local, localConfiguration: try configuration("log:\n  level: info\n"),
            settings: RemoteConfigConfig(), files: files, logger: logger)
        #expect(plan.running.version == 4)
        #expect(plan.running.configuration.log.level == .debug)
        #expect(plan.running.sources["log"] == "remote:4")
        #expect(plan.machine.state == .pendingConfirmation)
        let record = try #require(try files.readRecord())
        #expect(record.provisionalStarts.count == 1)
        #expect(record.provisional == candidate)
    }

    @Test func aProvisionalVersionWhoseDocumentIsLostRollsBackAtStart() throws {
        let files = RemoteConfigFiles(dataDirectory: temporaryDirectory())
        try files.prepare()
        let candidate = Candidate(version: 9, sections: ["adapters"], needsRestart: false)
        try files.writeRecord(
            RemoteConfigRecord(highestVersion: 9, provisional: candidate, remainingNanoseconds: 60_000_000_000))
        let plan = try RemoteConfigStartup.plan(
            localTree: try tree("{}"), localConfiguration: .default, settings: RemoteConfigConfig(), files: files,
            logger: logger)
        #expect(plan.running.version == 0)
        #expect(plan.machine.state == .rolledBack)
        let record = try #require(try files.readRecord())
        #expect(record.provisional == nil)
        #expect(record.lastAttempt?.result == .rolledBack)
        #expect(record.lastAttempt?.errors.first?.message.contains("desired-9.json is missing") == true)
        #expect(record.highestVersion == 9)
    }

    @Test func anUnreadableRecordStartsTheLocalFileAndIsKept() throws {
        let files = RemoteConfigFiles(dataDirectory: temporaryDirectory())
        try files.prepare()
        let handle = fopen(files.recordPath, "w")
        fputs("wharf remote configuration record 1\nnonsense\n", handle)
        fclose(handle)
        let plan = try RemoteConfigStartup.plan(
            localTree: try tree("{}"), localConfiguration: .default, settings: RemoteConfigConfig(), files: files,
            logger: logger)
        #expect(plan.running.version == 0)
        #expect(access(files.recordPath + ".unreadable", F_OK) == 0)
    }

    @Test func removeStagedKeepsOnlyWhatIsAsked() throws {
        let files = RemoteConfigFiles(dataDirectory: temporaryDirectory())
        try files.prepare()
        for version in [UInt64(1), 2, 3] {
            try files.stage(version: version, document: Array("{}".utf8), acl: "topic read #\n")
        }
        try files.removeStaged(keeping: [2])
        #expect(try files.readDocument(1) == nil)
        #expect(try files.readDocument(2) != nil)
        #expect(try files.readDocument(3) == nil)
        #expect(access(files.aclPath(2), F_OK) == 0)
        #expect(access(files.aclPath(3), F_OK) != 0)
    }

    @Test func theHashFollowsTheEffectiveConfiguration() throws {
        let a = RunningConfiguration.local(tree: try tree("log:\n  level: info\n"), configuration: .default)
        let b = RunningConfiguration.local(tree: try tree("log: {level: info}\n"), configuration: .default)
        let c = RunningConfiguration.local(tree: try tree("log:\n  level: debug\n"), configuration: .default)
        #expect(a.hash == b.hash)
        #expect(a.hash != c.hash)
        #expect(a.hash.count == 64)
    }
}
