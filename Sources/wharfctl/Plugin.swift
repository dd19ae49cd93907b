import ArgumentParser

/// `wharfctl plugin ...`: plugins of the running daemon, and the conformance kit.
struct Plugin: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage and test plugins.",
        subcommands: [PluginRestart.self]
    )
}
