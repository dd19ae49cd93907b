import ArgumentParser

/// `wharfctl plugin ...`: tools for plugins (docs/plugins.md): the conformance kit, and
/// restarting a plugin of the running daemon.
struct Plugin: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Test and manage plugins.",
        subcommands: [PluginTest.self, PluginRestart.self]
    )
}
