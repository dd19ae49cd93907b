import ArgumentParser
import PluginProtocol
import WharfConfig
import WharfCore
import WharfSupport

/// `wharfctl plugin test PATH [-- ARGS...]`: the conformance kit. Runs a plugin against a
/// simulated host and reports, check by check, what it got wrong.
struct PluginTest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run a plugin against a simulated host and check that it speaks the plugin protocol.",
        discussion: """
            Starts the plugin, sends init, and checks: ready in time with a supported protocol \
            version, only log and health before ready, a health answer, the credit (answers are \
            held back to see that the plugin waits), that it survives a nack, a command on one of \
            its subscriptions, and that shutdown ends it with status 0. Prints one PASS, FAIL or \
            SKIP line per check; exits 1 when a check failed.
            """
    )

    @Argument(help: "The plugin's executable.")
    var path: String

    @Option(help: "The plugin's config, as JSON (init.config).")
    var config: String = "{}"

    @Option(help: "How long the plugin has for ready and for each health answer (e.g. 10s, 500ms).")
    var timeout: String = "10s"

    @Option(help: "The grace period of shutdown.")
    var grace: String = "5s"

    @Option(help: "The credit offered in init.")
    var credit: Int = 4

    @Option(help: "The instance name sent in init.")
    var name: String = "conformance"

    @Flag(name: .shortAndLong, help: "Print every line exchanged and the plugin's stderr.")
    var verbose = false

    @Argument(parsing: .postTerminator, help: "Arguments for the plugin, after --.")
    var arguments: [String] = []

    func run() throws {
        let settings = try settings()
        let executable = path.contains("/") ? path : "./" + path
        let process: PluginProcess
        do {
            process = try PluginProcess.spawn(path: executable, arguments: arguments)
        } catch {
            printError("wharfctl plugin test: \(error.description)")
            throw ExitCode(2)
        }
        var driver = ConformanceDriver(
            run: ConformanceRun(settings: settings), process: process, verbose: verbose)
        driver.drive()
        let findings = driver.run.findings
        for finding in findings { print(finding.report) }
        let failed = findings.filter { $0.verdict == .fail }.count
        let skipped = findings.filter { $0.verdict == .skip }.count
        print("\(path): \(findings.count - failed - skipped) passed, \(failed) failed, \(skipped) skipped")
        if failed > 0 { throw ExitCode(1) }
    }

    private func settings() throws -> ConformanceSettings {
        guard let timeout = ConfigUnits.parseDuration(timeout), timeout > .zero else {
            throw ValidationError("--timeout: expected \(ConfigUnits.durationExamples)")
        }
        guard let grace = ConfigUnits.parseDuration(grace), grace > .zero else {
            throw ValidationError("--grace: expected \(ConfigUnits.durationExamples)")
        }
        guard (1...65535).contains(credit) else { throw ValidationError("--credit: expected 1...65535") }
        let parsed: PluginJSON
        do {
            parsed = try PluginJSON.parse(config)
        } catch {
            throw ValidationError("--config: not JSON: \(error.description)")
        }
        return ConformanceSettings(
            name: name, config: parsed, credit: credit, timeout: timeout, shutdownGrace: grace,
            wharfVersion: wharfVersion)
    }
}
