import ArgumentParser

/// `wharfctl`: the operator's command-line tool for Wharf.
@main
struct WharfCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wharfctl",
        abstract: "Check and inspect a Wharf gateway.",
        subcommands: [Check.self, Config.self, Status.self, Queue.self, Passwd.self, Plugin.self, Version.self]
    )
}
