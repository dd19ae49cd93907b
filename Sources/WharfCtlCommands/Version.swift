import ArgumentParser
import WharfCore

/// `wharfctl version`.
struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.")

    func run() {
        print("wharfctl \(wharfVersion)")
    }
}
