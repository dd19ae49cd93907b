import ArgumentParser
import WharfCore
import WharfSupport

/// `wharfctl`: the operator's command-line tool for Wharf.
@main
struct WharfCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wharfctl",
        abstract: "Check and inspect a Wharf gateway.",
        subcommands: [Check.self, Version.self, Status.self]
    )
}

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

/// `wharfctl version`.
struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.")

    func run() {
        print("wharfctl \(wharfVersion)")
    }
}

/// `wharfctl status`: needs the daemon's admin API, which this version does not have yet.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the running daemon's status (needs the admin API).")

    func run() throws {
        printError(
            "wharfctl status: this version of wharfd has no admin API yet; use the $SYS/broker/# topics, for example: mosquitto_sub -t '$SYS/broker/#' -v"
        )
        throw ExitCode(3)
    }
}
