import ArgumentParser
import WharfSupport

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
