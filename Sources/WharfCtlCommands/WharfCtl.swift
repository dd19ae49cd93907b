import ArgumentParser

/// `wharfctl`: the operator's command-line tool for Wharf. It has no executable of its own:
/// `wharfd` runs it when started under the name `wharfctl` (see ``MultiCallProgram``).
public struct WharfCtl: AsyncParsableCommand {
    /// The command's name, abstract and subcommands; the help texts say `wharfctl`.
    public static let configuration = CommandConfiguration(
        commandName: "wharfctl",
        abstract: "Check and inspect a Wharf gateway.",
        subcommands: [Check.self, Config.self, Status.self, Queue.self, Passwd.self, Plugin.self, Version.self]
    )

    /// An empty root command; ArgumentParser runs one of the subcommands.
    public init() {}
}
