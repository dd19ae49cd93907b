import ArgumentParser
import WharfSupport

/// `wharfctl passwd`: manages the broker's password file; not available in this version.
struct Passwd: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage the broker's password file (not available yet).")

    func run() throws {
        printError("wharfctl passwd: this version of wharfd has no password file support yet")
        throw ExitCode(3)
    }
}
