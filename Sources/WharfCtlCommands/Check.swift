import ArgumentParser
import WharfChecks
import WharfConfig
import WharfSupport

/// `wharfctl check [FILE]`: validates a configuration file with the daemon's own rules.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate a configuration file and list every problem.")

    @Argument(help: "The configuration file.")
    var file: String = "/etc/wharf/wharf.yaml"

    func run() throws {
        let configuration: WharfConfiguration
        do {
            configuration = try ConfigFile.load(path: file)
        } catch {
            printError(error.description)
            throw ExitCode(error.exitCode)
        }
        // The same checks as `wharfd --check`: adapter sections and the broker's auth files.
        for warning in ConfigCheck.warnings(in: configuration, file: file) { printError(warning) }
        let problems = ConfigCheck.problems(in: configuration, file: file)
        guard problems.isEmpty else {
            printError(
                problems.joined(separator: "\n")
                    + "\n\(file): \(problems.count) problem\(problems.count == 1 ? "" : "s") found")
            throw ExitCode(1)
        }
        print("\(file): OK")
    }
}
