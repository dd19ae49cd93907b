import ArgumentParser
import WharfSupport

/// `wharfctl check [FILE]`: validates a configuration file with the daemon's own rules.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate a configuration file and list every problem.")

    @Argument(help: "The configuration file.")
    var file: String = "/etc/wharf/wharf.yaml"

    func run() throws {
        do {
            _ = try ConfigFile.load(path: file)
            print("\(file): OK")
        } catch {
            printError(error.description)
            throw ExitCode(error.exitCode)
        }
    }
}
